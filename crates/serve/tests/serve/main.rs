//! The integration tests of `inferplan serve`: the API answers as the command line does, byte
//! for byte (`equality`), bad input gets the designed status and message (`bad_input`), and a
//! bounded load on loopback is served (`load`).

mod equality;
mod http;
