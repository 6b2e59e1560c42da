//! The system under test: a port of the reference's connection supervisor.

pub mod policy;

pub use policy::Policy;
