//! A small registrar and location proxy with digest authentication, built on the same
//! sans-IO core as the client; the embedded peer of `voip demo` and of the tests. Not a
//! production PBX. It is empty until the client-core issue lands.

#![forbid(unsafe_code)]
