//! A paraf or signature decision on one letter, from either front end: with the
//! official's own key, or, for a department that signs through BSrE, with the signer's
//! BSrE credential as well.

use super::Error;
use crate::{
    accounts::User,
    signing::remote::Credential,
    workflow::{DecisionRequest, Letter, Workflow},
};

/// The BSrE part of a signature: the signer's credential, and whether to ask BSrE again
/// after an unknown outcome (never done by itself).
pub struct RemoteSignature {
    pub credential: Credential,
    pub send_again: bool,
}

pub async fn decide(
    flow: &Workflow,
    user: &User,
    letter_id: i64,
    request: &DecisionRequest,
    passphrase: &str,
    remote: Option<RemoteSignature>,
) -> Result<Letter, Error> {
    Ok(match remote {
        Some(remote) => {
            flow.sign_remotely(user, letter_id, request, passphrase, &remote.credential, remote.send_again)
                .await?
        }
        None => flow.decide(user, letter_id, request, passphrase).await?,
    })
}
