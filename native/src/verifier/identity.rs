//! Identity tokens through the verifier ([`Verifier::verify_identity`]).

use crate::classify::TokenKind;
use crate::identity::{self, Actor, IdentityShape, IdentityVerifyRequest};

use super::{
    Failure, IdentityActor, IdentityRequest, KeyChoice, Outcome, Status, TokenInput, Verifier,
    VerifierError,
};

impl Verifier<'_> {
    /// Verifies an identity token (see [`crate::identity`]). As
    /// [`Verifier::verify`]: `Err` only for problems that are not about the
    /// token. A token that is not an identity token is denied
    /// ([`Failure::NotIdentity`]): without its actor check any identity
    /// would pass. Valid: `subject` is the identity proven.
    pub fn verify_identity(
        &self,
        token: TokenInput<'_>,
        key: KeyChoice<'_>,
        req: &IdentityRequest,
    ) -> Result<Outcome, VerifierError> {
        let leeway_seconds = self.leeway(req.leeway_seconds);
        let (mut outcome, verified) = self.open(token, key, req.now, leeway_seconds)?;
        let Some(verified) = verified else {
            return Ok(outcome);
        };
        let Some(shape) = IdentityShape::read(&verified.blocks) else {
            outcome.status = Status::Denied;
            outcome.failure = Some(Failure::NotIdentity {
                kind: outcome.token_kind.unwrap_or(TokenKind::Other),
            });
            return Ok(outcome);
        };
        let (actor, proven) = match &req.actor {
            IdentityActor::Given(id) => (Actor::Given(id.clone()), id.clone()),
            IdentityActor::Bearer => (Actor::Bearer, shape.subject.clone()),
            IdentityActor::Delegated => {
                let id = shape.narrowest().to_string();
                (Actor::Given(id.clone()), id)
            }
        };
        let request = IdentityVerifyRequest {
            actor,
            domain: req
                .domain
                .clone()
                .or_else(|| self.config.and_then(|c| c.domain.clone())),
            subject_in_domain: req.subject_in_domain,
            now: req.now,
            leeway_seconds,
        };
        match identity::verify_blocks(&verified.blocks, &request, &self.limits()) {
            Ok(()) => {
                outcome.status = Status::Valid;
                outcome.subject = Some(proven);
            }
            Err(failure) => outcome.refuse(failure),
        }
        Ok(outcome)
    }
}
