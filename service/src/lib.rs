//! jimbot-service
