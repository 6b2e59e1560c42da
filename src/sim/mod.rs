//! The simulated world on turmoil.
