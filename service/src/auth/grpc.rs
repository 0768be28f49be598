//! The tonic interceptor: `InterceptedService::new(server, RequireKey::new(keys))`.
//!
//! A call needs `authorization: Bearer <key>` metadata when keys are
//! configured; otherwise `UNAUTHENTICATED`, with no detail. The gRPC health
//! service and reflection are not wrapped: they stay open, like `/health`.

use tonic::{Request, Status, service::Interceptor};

use super::{Access, ApiKeys, Granted, Rejection, record};

/// Lets a call through with a valid key (or any call when no key is
/// configured); the [`Granted`] is added to the request's extensions.
#[derive(Debug, Clone)]
pub struct RequireKey(Access);

impl RequireKey {
    /// Requires one of `keys` (nothing when it is empty).
    pub fn new(keys: ApiKeys) -> Self {
        Self(Access::keys(keys))
    }
}

impl Interceptor for RequireKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|value| value.as_bytes());
        let decision = self.0.check(authorization, None);
        record("grpc", &decision);
        match decision {
            Ok(granted) => {
                request.extensions_mut().insert::<Granted>(granted);
                Ok(request)
            }
            Err(Rejection::Network) => Err(Status::permission_denied("permission denied")),
            Err(Rejection::MissingKey | Rejection::InvalidKey) => {
                Err(Status::unauthenticated("unauthenticated"))
            }
        }
    }
}
