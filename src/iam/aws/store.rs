//! The secret stores a rotation writes to: Secrets Manager and SSM
//! Parameter Store (SecureString), through the SDK.

use super::{Aws, classify};
use crate::iam::api::{CallError, Secret, SecretStore, StoreKind, pair_json, pair_of};

/// Secrets Manager: a secret per name; a new version on each write.
pub struct SecretsManager<'a> {
    aws: &'a Aws,
    client: aws_sdk_secretsmanager::Client,
}

impl<'a> SecretsManager<'a> {
    /// Secrets Manager through `aws`'s configuration and runtime.
    pub fn new(aws: &'a Aws) -> Self {
        SecretsManager {
            aws,
            client: aws_sdk_secretsmanager::Client::new(&aws.config),
        }
    }
}

/// Whether a failed call says the secret or parameter is not there.
fn missing(e: &CallError) -> bool {
    match e {
        CallError::NotFound(_) => true,
        CallError::Other(m) => m.contains("ResourceNotFound") || m.contains("ParameterNotFound"),
        CallError::Fatal(_) => false,
    }
}

impl SecretStore for SecretsManager<'_> {
    fn kind(&self) -> StoreKind {
        StoreKind::SecretsManager
    }

    fn put(&self, name: &str, key_id: &str, secret: &Secret) -> Result<(), CallError> {
        let value = pair_json(key_id, secret);
        self.aws.count_call();
        let updated = self.aws.block_on(
            self.client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value.expose())
                .send(),
        );
        let e = match updated {
            Ok(_) => return Ok(()),
            Err(e) => classify("secretsmanager:PutSecretValue", &e, &self.aws.endpoint()),
        };
        if !missing(&e) {
            return Err(e);
        }
        self.aws.count_call();
        self.aws
            .block_on(
                self.client
                    .create_secret()
                    .name(name)
                    .secret_string(value.expose())
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| classify("secretsmanager:CreateSecret", &e, &self.aws.endpoint()))
    }

    fn get(&self, name: &str) -> Result<Option<(String, Secret)>, CallError> {
        self.aws.count_call();
        match self
            .aws
            .block_on(self.client.get_secret_value().secret_id(name).send())
        {
            Ok(out) => Ok(out.secret_string().and_then(pair_of)),
            Err(e) => {
                let e = classify("secretsmanager:GetSecretValue", &e, &self.aws.endpoint());
                if missing(&e) { Ok(None) } else { Err(e) }
            }
        }
    }
}

/// SSM Parameter Store: a SecureString parameter per name, overwritten on
/// each write.
pub struct Ssm<'a> {
    aws: &'a Aws,
    client: aws_sdk_ssm::Client,
}

impl<'a> Ssm<'a> {
    /// Parameter Store through `aws`'s configuration and runtime.
    pub fn new(aws: &'a Aws) -> Self {
        Ssm {
            aws,
            client: aws_sdk_ssm::Client::new(&aws.config),
        }
    }
}

impl SecretStore for Ssm<'_> {
    fn kind(&self) -> StoreKind {
        StoreKind::Ssm
    }

    fn put(&self, name: &str, key_id: &str, secret: &Secret) -> Result<(), CallError> {
        let value = pair_json(key_id, secret);
        self.aws.count_call();
        self.aws
            .block_on(
                self.client
                    .put_parameter()
                    .name(name)
                    .value(value.expose())
                    .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                    .overwrite(true)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| classify("ssm:PutParameter", &e, &self.aws.endpoint()))
    }

    fn get(&self, name: &str) -> Result<Option<(String, Secret)>, CallError> {
        self.aws.count_call();
        match self.aws.block_on(
            self.client
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send(),
        ) {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).and_then(pair_of)),
            Err(e) => {
                let e = classify("ssm:GetParameter", &e, &self.aws.endpoint());
                if missing(&e) { Ok(None) } else { Err(e) }
            }
        }
    }
}
