//! A rule's CEL condition (`when:`, and the `when` of a message or help
//! variant), compiled the first time it is needed.
//!
//! Compiling the sixteen built-in rules' conditions is most of what an
//! empty scan or a clean one-file pre-commit run would spend in user time,
//! and such a run evaluates none of them. The built-in rules are compiled
//! and checked by the test suite, so they wait until asked; a rule from a
//! `rules-dir` is compiled when it is loaded, so its mistakes are reported
//! with a span into its file.

use std::sync::{Arc, OnceLock};

use super::facts;

/// A condition and, once asked for, its compiled program. Clones share the
/// program: a commit's review loads the built-in rules for three policies
/// (the work tree's, HEAD's, the index's) and compiles each condition once.
#[derive(Clone)]
pub(crate) struct Condition {
    source: String,
    compiled: Arc<OnceLock<Result<Compiled, CompileError>>>,
}

/// A condition's program and every fact it reads, sorted.
pub(crate) struct Compiled {
    pub(crate) program: cel::Program,
    pub(crate) reads: Vec<&'static str>,
}

/// Why a condition does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CompileError {
    /// Not CEL: the parser's message.
    #[error("does not compile: {0}")]
    Syntax(String),
    /// A dotted name that is not a fact.
    #[error("names `{0}`, which is not a fact")]
    UnknownFact(String),
}

impl Condition {
    /// Compiles now: the caller reports what is wrong.
    pub(crate) fn compile_now(source: &str) -> Result<Condition, CompileError> {
        let compiled = compile(source)?;
        Ok(Condition {
            source: source.to_string(),
            compiled: Arc::new(OnceLock::from(Ok(compiled))),
        })
    }

    /// Compiles when first evaluated or asked what it reads.
    pub(crate) fn later(source: &str) -> Condition {
        Condition {
            source: source.to_string(),
            compiled: Arc::new(OnceLock::new()),
        }
    }

    /// The program and what it reads, or why there is none.
    pub(crate) fn compiled(&self) -> Result<&Compiled, &CompileError> {
        self.compiled.get_or_init(|| compile(&self.source)).as_ref()
    }

    /// Every fact the condition reads (none when it does not compile: it
    /// is then never true).
    pub(crate) fn reads(&self) -> &[&'static str] {
        self.compiled().map_or(&[], |c| c.reads.as_slice())
    }
}

/// Compiles a CEL expression and collects the facts it reads.
pub(crate) fn compile(source: &str) -> Result<Compiled, CompileError> {
    let program = cel::Program::compile(source).map_err(|e| {
        CompileError::Syntax(
            e.errors
                .first()
                .map_or_else(|| e.to_string(), |p| p.msg.clone()),
        )
    })?;
    let mut unknown = Vec::new();
    let mut reads = Vec::new();
    check_names(
        &program.expression().expr,
        &mut Vec::new(),
        &mut unknown,
        &mut reads,
    );
    if let Some(name) = unknown.into_iter().next() {
        return Err(CompileError::UnknownFact(name));
    }
    reads.sort_unstable();
    reads.dedup();
    Ok(Compiled { program, reads })
}

/// Collects dotted names used in an expression that are not facts.
fn check_names(
    expr: &cel::common::ast::Expr,
    bound: &mut Vec<String>,
    unknown: &mut Vec<String>,
    reads: &mut Vec<&'static str>,
) {
    use cel::common::ast::{EntryExpr, Expr};
    match expr {
        Expr::Ident(name) => {
            if !bound.contains(name) && !name.starts_with('@') {
                unknown.push(name.clone());
            }
        }
        Expr::Select(sel) => {
            if let Expr::Ident(root) = &sel.operand.expr {
                if bound.contains(root) {
                    return;
                }
                let full = format!("{root}.{}", sel.field);
                match facts::known(&full) {
                    Some(name) => reads.push(name),
                    None => unknown.push(full),
                }
            } else {
                check_names(&sel.operand.expr, bound, unknown, reads);
            }
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                check_names(&t.expr, bound, unknown, reads);
            }
            for a in &call.args {
                check_names(&a.expr, bound, unknown, reads);
            }
        }
        Expr::Comprehension(c) => {
            check_names(&c.iter_range.expr, bound, unknown, reads);
            let before = bound.len();
            bound.push(c.iter_var.clone());
            if let Some(v) = &c.iter_var2 {
                bound.push(v.clone());
            }
            bound.push(c.accu_var.clone());
            for e in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                check_names(&e.expr, bound, unknown, reads);
            }
            bound.truncate(before);
        }
        Expr::List(l) => {
            for e in &l.elements {
                check_names(&e.expr, bound, unknown, reads);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => check_names(&f.value.expr, bound, unknown, reads),
                    EntryExpr::MapEntry(e) => {
                        check_names(&e.key.expr, bound, unknown, reads);
                        check_names(&e.value.expr, bound, unknown, reads);
                    }
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    check_names(&f.value.expr, bound, unknown, reads);
                }
            }
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}
