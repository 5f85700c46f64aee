use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;
use keyward::Progress;
use keyward::cli::{self, Cli, EXIT_ERROR, Terminal};

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Errors are masked as text, after rendering: wrapped lines would split
    // a quoted secret (miette breaks lines at `/`) into runs too short for
    // the mask to recognise.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let cli = Cli::parse();
    let term = Terminal {
        stdout_is_tty: std::io::stdout().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        width: None,
    };
    let progress = Arc::new(Progress::default());
    let done = Arc::new(AtomicBool::new(false));
    let ticker = std::io::stderr()
        .is_terminal()
        .then(|| spawn_progress(progress.clone(), done.clone()));
    let result = cli::run(
        cli,
        term,
        &progress,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    done.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.join();
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            // Errors quote what they could not read.
            eprintln!("{}", keyward::redacted(&format!("{report:?}")));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// A progress line on stderr, shown only once a scan has run for a second
/// and cleared when it ends.
fn spawn_progress(progress: Arc<Progress>, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let mut bar: Option<indicatif::ProgressBar> = None;
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if start.elapsed() < Duration::from_secs(1) {
                continue;
            }
            let b = bar.get_or_insert_with(|| {
                let b = indicatif::ProgressBar::new_spinner();
                b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                b
            });
            let requests = progress.iam_requests.load(Ordering::Relaxed);
            let files = progress.files.load(Ordering::Relaxed);
            let mut message = String::new();
            if files > 0 {
                message = format!(
                    "{files} files, {:.1} MiB, {} candidates",
                    progress.bytes.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0),
                    progress.candidates.load(Ordering::Relaxed)
                );
            }
            if requests > 0 {
                if !message.is_empty() {
                    message.push_str(", ");
                }
                message.push_str(&format!("{requests} IAM requests"));
            }
            b.set_message(message);
            b.tick();
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    })
}
