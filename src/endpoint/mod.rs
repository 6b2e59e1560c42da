//! The fake WhatsApp endpoint: a WebSocket server that behaves as WhatsApp
//! does, as far as is publicly known, with scripted faults and ground truth.

pub mod protocol;
