//! jimbot-schemas
