//! The integration tests of `inferplan serve`: the API answers as the command line does, byte
//! for byte (`equality`), bad input and overload get the designed status and message
//! (`bad_input`), the decoders and the server never panic on arbitrary input (`fuzz`), and a
//! bounded load on loopback is served (`load`).

mod bad_input;
mod docs;
mod equality;
mod fuzz;
mod http;
mod load;
