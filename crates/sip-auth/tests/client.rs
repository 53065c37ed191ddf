//! The digest client against scripted challenges: every pyVoIP and rsip digest bug the
//! project knows of has a test here that would catch it, and every policy rule is
//! exercised.

use sip_auth::{
    Algorithm, AuthError, AuthPolicy, AuthSession, CredentialsManager, DigestClient, DigestInput,
    HashFamily, Qop, RequestTarget, SecretRef, compute_response, ha1_base, userhash,
};
use sip_message::headers::{Credentials, TypedHeader};
use sip_message::{HeaderName, Message, Response, SeededRandom};

const SERVER: &str = "pbx.example.com";

fn challenge_response(status: &str, lines: &[&str]) -> Message {
    let mut s = format!(
        "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n"
    );
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    Message::parse(s.into_bytes()).unwrap()
}

fn resp(m: &Message) -> &Response {
    m.as_response().unwrap()
}

fn creds() -> CredentialsManager {
    let mut c = CredentialsManager::new();
    c.add("alice", "secret-a", None, None, None);
    c
}

fn client() -> DigestClient {
    DigestClient::new(AuthPolicy::trusting([SERVER]))
}

fn target() -> RequestTarget<'static> {
    RequestTarget::new("REGISTER", "sip:example.com", SERVER, "alice")
}

/// The parameters of an Authorization value, unquoted.
fn params(value: &str) -> Vec<(String, String)> {
    let c = Credentials::parse(value).unwrap();
    assert_eq!(c.scheme(), "Digest");
    c.params()
        .map(|(n, v)| (n.to_string(), sip_message::unquote(v).into_owned()))
        .collect()
}

fn param(value: &str, name: &str) -> Option<String> {
    params(value)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

fn raw_param(value: &str, name: &str) -> Option<String> {
    Credentials::parse(value)
        .unwrap()
        .param_raw(name)
        .map(str::to_string)
}

/// Recomputes the response an Authorization value should carry.
fn expected(value: &str, password: &str, method: &str, body: &[u8]) -> String {
    let p = |n| param(value, n);
    let algorithm = p("algorithm").map_or(Algorithm::Md5, |a| Algorithm::parse(&a).unwrap());
    let qop = p("qop").and_then(|q| Qop::parse(&q));
    let nc = p("nc").map(|n| u32::from_str_radix(&n, 16).unwrap());
    let (username, realm, nonce, uri) = (
        p("username").unwrap(),
        p("realm").unwrap(),
        p("nonce").unwrap(),
        p("uri").unwrap(),
    );
    let cnonce = p("cnonce");
    let user = if p("userhash").is_some() {
        "alice".to_string()
    } else {
        username
    };
    compute_response(&DigestInput {
        algorithm,
        username: &user,
        realm: &realm,
        secret: SecretRef::Password(password.as_bytes()),
        nonce: &nonce,
        cnonce: cnonce.as_deref(),
        nc,
        qop,
        method,
        uri: &uri,
        body,
    })
    .unwrap()
    .to_string()
}

fn answer(lines: &[&str]) -> Result<Vec<sip_auth::AuthorizationValue>, AuthError> {
    let m = challenge_response("401 Unauthorized", lines);
    client().respond(
        &mut AuthSession::new(),
        resp(&m),
        &target(),
        &creds(),
        &mut SeededRandom::new(1),
    )
}

// --- pyVoIP bugs -------------------------------------------------------------------

/// pyVoIP 2.0 answered an `algorithm=SHA-256` challenge with an MD5 response.
#[test]
fn sha256_challenge_gets_a_sha256_answer() {
    let a = answer(&[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth", algorithm=SHA-256"#]).unwrap();
    let v = &a[0].value;
    assert_eq!(raw_param(v, "algorithm").as_deref(), Some("SHA-256"));
    assert_eq!(param(v, "response").unwrap().len(), 64);
    assert_eq!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"")
    );
}

/// pyVoIP 2.0 computed -sess without re-hashing HA1 with the nonce and cnonce.
#[test]
fn sess_rehashes_ha1() {
    let a = answer(&[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth", algorithm=MD5-sess"#]).unwrap();
    let v = &a[0].value;
    let cnonce = param(v, "cnonce").unwrap();
    let ha1 = ha1_base(HashFamily::Md5, "alice", "example.com", b"secret-a");
    let sess = HashFamily::Md5.hash_colon(&[ha1.as_bytes(), b"n1", cnonce.as_bytes()]);
    let ha2 = HashFamily::Md5.hash_colon(&[b"REGISTER", b"sip:example.com"]);
    let want = HashFamily::Md5.hash_colon(&[
        sess.as_bytes(),
        b"n1",
        b"00000001",
        cnonce.as_bytes(),
        b"auth",
        ha2.as_bytes(),
    ]);
    assert_eq!(param(v, "response").unwrap(), want.as_str());
    // Without the re-hash it would differ.
    let wrong = HashFamily::Md5.hash_colon(&[
        ha1.as_bytes(),
        b"n1",
        b"00000001",
        cnonce.as_bytes(),
        b"auth",
        ha2.as_bytes(),
    ]);
    assert_ne!(param(v, "response").unwrap(), wrong.as_str());
}

/// pyVoIP 2.0 crashed on `userhash=true`.
#[test]
fn userhash_is_answered() {
    let a = answer(&[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth", algorithm=SHA-256, userhash=true"#]).unwrap();
    let v = &a[0].value;
    assert_eq!(
        param(v, "username").unwrap(),
        userhash(Algorithm::Sha256, "alice", "example.com").as_str()
    );
    assert_eq!(raw_param(v, "userhash").as_deref(), Some("true"));
    assert_eq!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"")
    );
}

/// pyVoIP used something other than the Request-URI as the digest URI.
#[test]
fn digest_uri_is_the_request_uri() {
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1""#],
    );
    let t = RequestTarget::new(
        "INVITE",
        "sip:bob@biloxi.example.com;transport=tcp",
        SERVER,
        "alice",
    );
    let a = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &t,
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(
        param(&a[0].value, "uri").as_deref(),
        Some("sip:bob@biloxi.example.com;transport=tcp")
    );
}

/// pyVoIP 1.6 never answered 407.
#[test]
fn proxy_challenge_gets_proxy_authorization() {
    let m = challenge_response(
        "407 Proxy Authentication Required",
        &[r#"Proxy-Authenticate: Digest realm="proxy.example.com", nonce="p1", qop="auth""#],
    );
    let a = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].header, HeaderName::ProxyAuthorization);
    assert_eq!(a[0].realm, "proxy.example.com");
}

// --- rsip bugs -----------------------------------------------------------------------

/// rsip wrote `SHA256`; the RFC spelling is `SHA-256`.
#[test]
fn algorithm_written_in_rfc_spelling() {
    for (given, written) in [
        ("SHA256", "SHA-256"),
        ("sha-512-256", "SHA-512-256"),
        ("md5-SESS", "MD5-sess"),
    ] {
        let line = format!(
            r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth", algorithm={given}"#
        );
        let a = answer(&[&line]).unwrap();
        assert_eq!(
            raw_param(&a[0].value, "algorithm").as_deref(),
            Some(written)
        );
    }
}

/// rsip assumed SHA-256 when no algorithm was given; RFC 7616 §3.3 says MD5.
#[test]
fn no_algorithm_means_md5() {
    let a = answer(&[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth""#])
        .unwrap();
    let v = &a[0].value;
    assert_eq!(
        raw_param(v, "algorithm"),
        None,
        "not echoed when the server named none"
    );
    assert_eq!(param(v, "response").unwrap().len(), 32);
    assert_eq!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"")
    );
}

/// rsip offered SHA-512 where RFC 8760 means SHA-512/256.
#[test]
fn sha512_256_is_the_rfc8760_hash() {
    let a = answer(&[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth", algorithm=SHA-512-256"#]).unwrap();
    let v = &a[0].value;
    let ha1 = ha1_base(HashFamily::Sha512_256, "alice", "example.com", b"secret-a");
    assert_eq!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"")
    );
    // A truncated SHA-512 is a different hash (FIPS 180-4 gives SHA-512/256 its own
    // initial values).
    use sha2::Digest;
    let full = sha2::Sha512::digest(b"alice:example.com:secret-a");
    let truncated: String = full[..32].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(ha1.as_str().len(), truncated.len());
    assert_ne!(ha1.as_str(), truncated);
    assert!(
        answer(&[r#"WWW-Authenticate: Digest realm="example.com", nonce="n1", algorithm=SHA-512"#])
            .is_err()
    );
}

// --- the rest of the client's rules ---------------------------------------------------

#[test]
fn several_challenges_one_answer_per_realm_in_server_order() {
    let a = answer(&[
        r#"WWW-Authenticate: Digest realm="a.example", nonce="1", qop="auth", algorithm=SHA-256"#,
        r#"WWW-Authenticate: Digest realm="a.example", nonce="2", qop="auth", algorithm=MD5"#,
        r#"WWW-Authenticate: Digest realm="b.example", nonce="3", qop="auth", algorithm=X-UNKNOWN, Digest realm="b.example", nonce="4", algorithm=SHA-512-256, qop="auth""#,
    ])
    .unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].realm, "a.example");
    assert_eq!(
        raw_param(&a[0].value, "algorithm").as_deref(),
        Some("SHA-256")
    );
    assert_eq!(a[1].realm, "b.example");
    assert_eq!(param(&a[1].value, "nonce").as_deref(), Some("4"));
    // The server's order decides, not our preference: MD5 listed first wins.
    let a = answer(&[
        r#"WWW-Authenticate: Digest realm="a.example", nonce="1", algorithm=MD5"#,
        r#"WWW-Authenticate: Digest realm="a.example", nonce="2", algorithm=SHA-256"#,
    ])
    .unwrap();
    assert_eq!(param(&a[0].value, "nonce").as_deref(), Some("1"));
}

#[test]
fn md5_refused_by_policy() {
    let m = challenge_response(
        "401 Unauthorized",
        &[
            r#"WWW-Authenticate: Digest realm="r", nonce="1", algorithm=MD5"#,
            r#"WWW-Authenticate: Digest realm="r", nonce="2", algorithm=SHA-256"#,
        ],
    );
    let mut policy = AuthPolicy::trusting([SERVER]);
    policy.allow_md5 = false;
    let mut c = DigestClient::new(policy.clone());
    let a = c
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(
        raw_param(&a[0].value, "algorithm").as_deref(),
        Some("SHA-256")
    );
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="1""#],
    );
    let mut c = DigestClient::new(policy);
    let e = c
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap_err();
    assert_eq!(e, AuthError::Md5Refused);
}

#[test]
fn qop_only_from_what_is_offered() {
    // No qop offered: an RFC 2069 answer, without cnonce and nc.
    let a = answer(&[r#"WWW-Authenticate: Digest realm="r", nonce="n""#]).unwrap();
    let v = &a[0].value;
    assert_eq!(param(v, "qop"), None);
    assert_eq!(param(v, "nc"), None);
    assert_eq!(param(v, "cnonce"), None);
    assert_eq!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"")
    );
    // Only auth-int offered: auth-int, with the body hashed.
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n", qop="auth-int""#],
    );
    let mut t = target();
    t.body = b"v=0\r\n";
    let a = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &t,
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    let v = &a[0].value;
    assert_eq!(raw_param(v, "qop").as_deref(), Some("auth-int"));
    assert_eq!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"v=0\r\n")
    );
    assert_ne!(
        param(v, "response").unwrap(),
        expected(v, "secret-a", "REGISTER", b"v=1\r\n")
    );
    // Both offered: auth by default, auth-int when preferred.
    let both = [r#"WWW-Authenticate: Digest realm="r", nonce="n", qop="auth-int,auth""#];
    assert_eq!(
        raw_param(&answer(&both).unwrap()[0].value, "qop").as_deref(),
        Some("auth")
    );
    let mut p = AuthPolicy::trusting([SERVER]);
    p.prefer_auth_int = true;
    let m = challenge_response("401 Unauthorized", &both);
    let a = DigestClient::new(p)
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(raw_param(&a[0].value, "qop").as_deref(), Some("auth-int"));
    // Only unknown qop values: nothing we can answer.
    assert!(answer(&[r#"WWW-Authenticate: Digest realm="r", nonce="n", qop="x-new""#]).is_err());
}

#[test]
fn nonce_count_per_realm_and_nonce_and_cnonce_from_the_rng() {
    let mut c = client();
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n1", qop="auth", opaque="op\"aque""#],
    );
    let mut rng = SeededRandom::new(42);
    let nc = |c: &mut DigestClient, rng: &mut SeededRandom| {
        let a = c
            .respond(&mut AuthSession::new(), resp(&m), &target(), &creds(), rng)
            .unwrap();
        (
            param(&a[0].value, "nc").unwrap(),
            param(&a[0].value, "cnonce").unwrap(),
            param(&a[0].value, "opaque").unwrap(),
        )
    };
    let (n1, c1, o) = nc(&mut c, &mut rng);
    let (n2, c2, _) = nc(&mut c, &mut rng);
    assert_eq!((n1.as_str(), n2.as_str()), ("00000001", "00000002"));
    assert_ne!(c1, c2);
    assert_eq!(o, "op\"aque", "opaque echoed");
    // Another nonce starts again at 1.
    let m2 = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n2", qop="auth""#],
    );
    let a = c
        .respond(
            &mut AuthSession::new(),
            resp(&m2),
            &target(),
            &creds(),
            &mut rng,
        )
        .unwrap();
    assert_eq!(param(&a[0].value, "nc").as_deref(), Some("00000001"));
    // The same seed gives the same cnonce: randomness is injected.
    let (_, again, _) = nc(&mut client(), &mut SeededRandom::new(42));
    assert_eq!(again, c1);
}

#[test]
fn one_retry_unless_stale() {
    let mut c = client();
    let mut session = AuthSession::new();
    let first = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n1", qop="auth""#],
    );
    c.respond(
        &mut session,
        resp(&first),
        &target(),
        &creds(),
        &mut SeededRandom::new(1),
    )
    .unwrap();
    // stale=true: the new nonce is answered and it is not a failure.
    let stale = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n2", qop="auth", stale=true"#],
    );
    let a = c
        .respond(
            &mut session,
            resp(&stale),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(param(&a[0].value, "nonce").as_deref(), Some("n2"));
    // A new challenge without stale: the credentials were refused; no loop.
    let again = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n3", qop="auth""#],
    );
    let e = c
        .respond(
            &mut session,
            resp(&again),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap_err();
    assert_eq!(e, AuthError::Rejected { realm: "r".into() });
    // A server that says stale=true forever is also cut off.
    let mut session = AuthSession::new();
    c.respond(
        &mut session,
        resp(&first),
        &target(),
        &creds(),
        &mut SeededRandom::new(1),
    )
    .unwrap();
    let mut answered = 0;
    for _ in 0..10 {
        if c.respond(
            &mut session,
            resp(&stale),
            &target(),
            &creds(),
            &mut SeededRandom::new(1),
        )
        .is_ok()
        {
            answered += 1;
        }
    }
    assert_eq!(answered, c.policy().max_stale_retries);
}

/// FreeSWITCH answered challenges from any peer inside a call with the account's
/// credentials. Ours refuses a challenge for a request that went to an untrusted host.
#[test]
fn challenges_from_strangers_are_not_answered() {
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="pbx-realm", nonce="evil""#],
    );
    let peer = RequestTarget::new("BYE", "sip:peer@203.0.113.9", "203.0.113.9", "alice");
    let e = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &peer,
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap_err();
    assert_eq!(
        e,
        AuthError::UntrustedServer {
            server: "203.0.113.9".into()
        }
    );
    // Credentials added for that exact server are used there.
    let mut specific = CredentialsManager::new();
    specific.add("alice-peer", "x", Some("203.0.113.9"), None, None);
    let a = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &peer,
            &specific,
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(
        param(&a[0].value, "username").as_deref(),
        Some("alice-peer")
    );
    // No credentials at all: a clear error.
    let e = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &CredentialsManager::new(),
            &mut SeededRandom::new(1),
        )
        .unwrap_err();
    assert!(matches!(e, AuthError::NoCredentials { .. }));
}

#[test]
fn basic_only_when_allowed_and_over_tls() {
    let basic = [r#"WWW-Authenticate: Basic realm="r""#];
    assert!(matches!(
        answer(&basic),
        Err(AuthError::NoSupportedChallenge { .. })
    ));
    let m = challenge_response("401 Unauthorized", &basic);
    let mut p = AuthPolicy::trusting([SERVER]);
    p.allow_basic = true;
    let mut t = target();
    assert!(
        DigestClient::new(p.clone())
            .respond(
                &mut AuthSession::new(),
                resp(&m),
                &t,
                &creds(),
                &mut SeededRandom::new(1)
            )
            .is_err()
    );
    t.secure = true;
    let a = DigestClient::new(p)
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &t,
            &creds(),
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(a[0].value, "Basic YWxpY2U6c2VjcmV0LWE=");
}

#[test]
fn ha1_credentials() {
    let mut c = CredentialsManager::new();
    let ha1 = ha1_base(HashFamily::Sha256, "alice", "r", b"secret-a");
    c.add_ha1("alice", ha1.as_str(), HashFamily::Sha256, None, "r", None)
        .unwrap();
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256"#],
    );
    let a = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &c,
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(
        param(&a[0].value, "response").unwrap(),
        expected(&a[0].value, "secret-a", "REGISTER", b"")
    );
    // An SHA-256 HA1 cannot answer an MD5 challenge.
    let m = challenge_response(
        "401 Unauthorized",
        &[r#"WWW-Authenticate: Digest realm="r", nonce="n", qop="auth""#],
    );
    let e = client()
        .respond(
            &mut AuthSession::new(),
            resp(&m),
            &target(),
            &c,
            &mut SeededRandom::new(1),
        )
        .unwrap_err();
    assert!(matches!(e, AuthError::Ha1Mismatch { .. }));
}

#[test]
fn no_challenge_and_malformed_values() {
    assert_eq!(answer(&[]), Err(AuthError::NoChallenge));
    // A challenge without a nonce is not one we can answer.
    assert!(answer(&[r#"WWW-Authenticate: Digest realm="r""#]).is_err());
}

/// The client keeps HA1 per user and realm between challenges, but a password changed
/// in the credentials store is used at once (a cached HA1 must never outlive it).
#[test]
fn cached_ha1_follows_changed_passwords() {
    let mut c = client();
    let mut rng = SeededRandom::new(7);
    let mut store = creds();
    for (round, password) in ["secret-a", "secret-a", "changed", "changed"]
        .into_iter()
        .enumerate()
    {
        if round == 2 {
            store = CredentialsManager::new();
            store.add("alice", "changed", None, None, None);
        }
        for algorithm in ["MD5", "SHA-256-sess", "SHA-512-256"] {
            let m = challenge_response(
                "401 Unauthorized",
                &[&format!(
                    "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n{round}\", qop=\"auth\", algorithm={algorithm}"
                )],
            );
            let v = c
                .respond(
                    &mut AuthSession::new(),
                    resp(&m),
                    &target(),
                    &store,
                    &mut rng,
                )
                .unwrap();
            assert_eq!(
                param(&v[0].value, "response").unwrap(),
                expected(&v[0].value, password, "REGISTER", b""),
                "round {round}, {algorithm}"
            );
        }
    }
}
