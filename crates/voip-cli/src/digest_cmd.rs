//! `voip digest`: computes a digest response the way the stack would, for users
//! debugging authentication against a PBX.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use sip_auth::{Algorithm, Answer, DigestChallenge, Qop, RequestTarget, SecretRef};
use sip_message::headers::{Challenge, TypedHeader};
use sip_message::{OsRandom, Random};

/// The algorithms accepted on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum AlgorithmArg {
    #[value(name = "MD5")]
    Md5,
    #[value(name = "MD5-sess")]
    Md5Sess,
    #[value(name = "SHA-256")]
    Sha256,
    #[value(name = "SHA-256-sess")]
    Sha256Sess,
    #[value(name = "SHA-512-256")]
    Sha512_256,
    #[value(name = "SHA-512-256-sess")]
    Sha512_256Sess,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Algorithm {
        match a {
            AlgorithmArg::Md5 => Algorithm::Md5,
            AlgorithmArg::Md5Sess => Algorithm::Md5Sess,
            AlgorithmArg::Sha256 => Algorithm::Sha256,
            AlgorithmArg::Sha256Sess => Algorithm::Sha256Sess,
            AlgorithmArg::Sha512_256 => Algorithm::Sha512_256,
            AlgorithmArg::Sha512_256Sess => Algorithm::Sha512_256Sess,
        }
    }
}

/// The qop values accepted on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum QopArg {
    #[value(name = "auth")]
    Auth,
    #[value(name = "auth-int")]
    AuthInt,
}

impl From<QopArg> for Qop {
    fn from(q: QopArg) -> Qop {
        match q {
            QopArg::Auth => Qop::Auth,
            QopArg::AuthInt => Qop::AuthInt,
        }
    }
}

/// Arguments of `voip digest`.
#[derive(Args, Debug)]
pub(crate) struct DigestArgs {
    /// The authentication user name.
    #[arg(long)]
    username: String,
    /// The password.
    #[arg(long)]
    password: String,
    /// The realm (or take it from --challenge).
    #[arg(
        long,
        required_unless_present = "challenge",
        conflicts_with = "challenge"
    )]
    realm: Option<String>,
    /// The server nonce (or take it from --challenge).
    #[arg(
        long,
        required_unless_present = "challenge",
        conflicts_with = "challenge"
    )]
    nonce: Option<String>,
    /// The request method.
    #[arg(long)]
    method: String,
    /// The digest URI: the Request-URI of the request.
    #[arg(long)]
    uri: String,
    /// The algorithm (default MD5, as when a challenge names none).
    #[arg(long, value_enum, conflicts_with = "challenge")]
    algorithm: Option<AlgorithmArg>,
    /// The qop; without it an RFC 2069 response is computed.
    #[arg(long, value_enum)]
    qop: Option<QopArg>,
    /// The nonce count, eight hex digits.
    #[arg(long, default_value = "00000001")]
    nc: String,
    /// The client nonce (random when needed and not given).
    #[arg(long)]
    cnonce: Option<String>,
    /// A file holding the body (for auth-int).
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// Send H(username:realm) as the user name (RFC 7616 userhash).
    #[arg(long)]
    userhash: bool,
    /// The opaque value to echo.
    #[arg(long, conflicts_with = "challenge")]
    opaque: Option<String>,
    /// A challenge pasted from a 401/407 (`Digest realm="...", nonce="...", ...`),
    /// instead of --realm, --nonce, --algorithm, --opaque.
    #[arg(long)]
    challenge: Option<String>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("voip digest: {msg}");
    ExitCode::from(2)
}

/// Runs `voip digest`.
pub(crate) fn run(args: &DigestArgs) -> ExitCode {
    let mut challenge = match &args.challenge {
        Some(text) => {
            let parsed = match Challenge::parse(text.trim()) {
                Ok(c) => c,
                Err(e) => return fail(format!("the challenge does not parse: {e}")),
            };
            match DigestChallenge::from_header(&parsed) {
                Ok(c) => c,
                Err(e) => return fail(e),
            }
        }
        None => DigestChallenge {
            realm: args.realm.as_deref().unwrap_or_default().into(),
            nonce: args.nonce.as_deref().unwrap_or_default().into(),
            opaque: args.opaque.as_deref().map(Into::into),
            algorithm: Some(args.algorithm.map_or(Algorithm::Md5, Algorithm::from)),
            algorithm_name: args.algorithm.map(|a| Algorithm::from(a).as_str().into()),
            qop: Vec::new(),
            qop_offered: false,
            stale: false,
            userhash: false,
        },
    };
    if challenge.algorithm.is_none() {
        return fail(format!(
            "unsupported algorithm {:?}",
            challenge.algorithm_name.as_deref().unwrap_or("")
        ));
    }
    challenge.userhash |= args.userhash;
    // The qop: as given; with a pasted challenge and none given, what the client would
    // choose (auth when offered).
    let qop = match (args.qop, args.challenge.is_some()) {
        (Some(q), _) => Some(Qop::from(q)),
        (None, true) if challenge.qop.contains(&Qop::Auth) => Some(Qop::Auth),
        (None, true) => challenge.qop.first().copied(),
        (None, false) => None,
    };
    let nc = match qop {
        Some(_) => match u32::from_str_radix(&args.nc, 16) {
            Ok(n) if args.nc.len() == 8 => Some(n),
            _ => return fail("--nc must be eight hex digits"),
        },
        None => None,
    };
    let needs_cnonce = qop.is_some() || challenge.algorithm.is_some_and(Algorithm::is_sess);
    let cnonce = match (&args.cnonce, needs_cnonce) {
        (Some(c), true) => Some(c.clone()),
        (None, true) => Some(OsRandom.token(24)),
        (_, false) => None,
    };
    let body = match &args.body_file {
        Some(p) => match std::fs::read(p) {
            Ok(b) => b,
            Err(e) => return fail(format!("{}: {e}", p.display())),
        },
        None => Vec::new(),
    };
    let mut target = RequestTarget::new(&args.method, &args.uri, "", &args.username);
    target.body = &body;
    let answer = Answer {
        challenge: &challenge,
        qop,
        username: &args.username,
        secret: SecretRef::Password(args.password.as_bytes()),
        cnonce: cnonce.as_deref(),
        nc,
    };
    match answer.authorization(&target) {
        Ok((response, value)) => {
            println!("{response}");
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
