//! The verifier against the client: for any credentials, algorithm and qop, it accepts
//! what the client makes and refuses any single changed byte; nonce counts cannot be
//! replayed; expired nonces are stale, not failures.

use proptest::prelude::*;
use sip_auth::{
    Algorithm, AuthPolicy, AuthSession, CredentialsManager, DigestClient, DigestVerifier,
    HashFamily, Qop, Rejection, RequestTarget, Secret, UserStore, Verdict, VerifierConfig,
    ha1_base, userhash,
};
use sip_message::headers::{Credentials, TypedHeader};
use sip_message::{Message, SeededRandom};
use std::collections::HashMap;
use zeroize::Zeroizing;

struct Users {
    realm: String,
    users: HashMap<String, Secret>,
}

impl UserStore for Users {
    fn secret(&self, username: &str, realm: &str) -> Option<Secret> {
        (realm == self.realm)
            .then(|| self.users.get(username).cloned())
            .flatten()
    }

    fn username_for_hash(&self, hash: &str, algorithm: Algorithm, realm: &str) -> Option<String> {
        self.users
            .keys()
            .find(|u| userhash(algorithm, u, realm).as_str() == hash)
            .cloned()
    }
}

fn users(realm: &str, name: &str, password: &str) -> Users {
    let mut users = HashMap::new();
    users.insert(
        name.to_string(),
        Secret::Password(Zeroizing::new(password.to_string())),
    );
    Users {
        realm: realm.to_string(),
        users,
    }
}

/// Builds the 401 the verifier would send, and the client's answer to it.
fn exchange(
    verifier: &DigestVerifier,
    now: u64,
    client: &mut DigestClient,
    name: &str,
    password: &str,
    target: &RequestTarget<'_>,
    seed: u64,
) -> String {
    let mut rng = SeededRandom::new(seed);
    let mut head = String::from(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n",
    );
    for c in verifier.challenges(now, false, &mut rng) {
        head.push_str(&format!("WWW-Authenticate: {c}\r\n"));
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    let m = Message::parse(head.into_bytes()).unwrap();
    let mut creds = CredentialsManager::new();
    creds.add(name, password, None, None, None);
    let a = client
        .respond(
            &mut AuthSession::new(),
            m.as_response().unwrap(),
            target,
            &creds,
            &mut rng,
        )
        .unwrap();
    a[0].value.clone()
}

fn check(
    v: &mut DigestVerifier,
    value: &str,
    t: &RequestTarget<'_>,
    now: u64,
    u: &Users,
) -> Verdict {
    match Credentials::parse(value) {
        Ok(c) => v.verify(&c, t.method, t.uri, t.body, now, u),
        Err(_) => Verdict::Rejected(Rejection::Malformed("unparsable")),
    }
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(Algorithm::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn accepts_what_the_client_makes_and_refuses_any_changed_byte(
        name in "[a-zA-Z0-9._-]{1,12}",
        password in "[ -~]{0,20}",
        realm in "[a-z0-9.]{1,16}",
        alg in algorithm(),
        qop in prop::sample::select(vec![Qop::Auth, Qop::AuthInt]),
        hashed in any::<bool>(),
        body in "[ -~]{0,30}",
        seed in any::<u64>(),
        which in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let mut config = VerifierConfig::new(&realm);
        config.algorithms = vec![alg];
        config.qop = vec![qop];
        config.userhash = hashed;
        let mut v = DigestVerifier::new(config, &mut SeededRandom::new(seed));
        let u = users(&realm, &name, &password);
        let mut client = DigestClient::new(AuthPolicy::trusting(["registrar.test"]));
        let mut t = RequestTarget::new("REGISTER", "sip:registrar.test", "registrar.test", &name);
        t.body = body.as_bytes();
        let value = exchange(&v, 1000, &mut client, &name, &password, &t, seed);
        prop_assert_eq!(check(&mut v, &value, &t, 1010, &u), Verdict::Authorized { username: name.clone() });

        // Change one byte of one protected value (username, realm, nonce, uri,
        // response, cnonce, nc) to something else; the verdict must be a refusal.
        let c = Credentials::parse(&value).unwrap();
        let fields: Vec<(usize, usize)> = ["username", "realm", "nonce", "uri", "response", "cnonce", "nc"]
            .iter()
            .filter_map(|n| c.param_raw(n))
            .map(|raw| {
                let start = raw.as_ptr() as usize - value.as_ptr() as usize;
                let quoted = raw.starts_with('"');
                (start + usize::from(quoted), start + raw.len() - usize::from(quoted))
            })
            .filter(|(a, b)| b > a)
            .collect();
        let positions: Vec<usize> = fields.iter().flat_map(|&(a, b)| a..b).collect();
        let pos = positions[which.index(positions.len())];
        let old = value.as_bytes()[pos];
        let new = if replacement.is_ascii_alphanumeric() && !replacement.eq_ignore_ascii_case(&old) {
            replacement
        } else if old == b'0' { b'1' } else { b'0' };
        let mut bytes = value.clone().into_bytes();
        bytes[pos] = new;
        let changed = String::from_utf8(bytes).unwrap();
        let mut fresh = DigestVerifier::new(v.config().clone(), &mut SeededRandom::new(seed));
        let verdict = check(&mut fresh, &changed, &t, 1010, &u);
        prop_assert!(!matches!(verdict, Verdict::Authorized { .. }), "accepted {changed} (was {value})");

        // A changed method or body (auth-int) is refused too.
        let mut other = t;
        other.method = "INVITE";
        let mut fresh = DigestVerifier::new(v.config().clone(), &mut SeededRandom::new(seed));
        let verdict = check(&mut fresh, &value, &other, 1010, &u);
        prop_assert!(!matches!(verdict, Verdict::Authorized { .. }), "other method accepted");
        if qop == Qop::AuthInt {
            let mut other = t;
            let tampered = format!("{body}x");
            other.body = tampered.as_bytes();
            let mut fresh = DigestVerifier::new(v.config().clone(), &mut SeededRandom::new(seed));
            let verdict = check(&mut fresh, &value, &other, 1010, &u);
            prop_assert!(!matches!(verdict, Verdict::Authorized { .. }), "other body accepted");
        }

        // The same Authorization again is a replay.
        prop_assert_eq!(check(&mut v, &value, &t, 1011, &u), Verdict::Rejected(Rejection::Replay));
    }
}

fn setup(alg: Algorithm) -> (DigestVerifier, DigestClient, Users) {
    let mut config = VerifierConfig::new("harness.test");
    config.algorithms = vec![alg];
    let v = DigestVerifier::new(config, &mut SeededRandom::new(9));
    (
        v,
        DigestClient::new(AuthPolicy::trusting(["registrar.test"])),
        users("harness.test", "alice", "secret-a"),
    )
}

#[test]
fn nonce_counts_must_increase() {
    let (mut v, mut client, u) = setup(Algorithm::Sha256);
    let t = RequestTarget::new("REGISTER", "sip:harness.test", "registrar.test", "alice");
    let first = exchange(&v, 100, &mut client, "alice", "secret-a", &t, 5);
    assert!(matches!(
        check(&mut v, &first, &t, 100, &u),
        Verdict::Authorized { .. }
    ));
    // The client reuses the nonce for the next request with nc=2: accepted; then nc=1
    // again (the captured first one) is a replay.
    let c = Credentials::parse(&first).unwrap();
    let nonce = c.param("nonce").unwrap().into_owned();
    let second = first.replace("nc=00000001", "nc=00000002");
    let (response2, cnonce) = {
        let cnonce = c.param("cnonce").unwrap().into_owned();
        let r = sip_auth::compute_response(&sip_auth::DigestInput {
            algorithm: Algorithm::Sha256,
            username: "alice",
            realm: "harness.test",
            secret: sip_auth::SecretRef::Password(b"secret-a"),
            nonce: &nonce,
            cnonce: Some(&cnonce),
            nc: Some(2),
            qop: Some(Qop::Auth),
            method: "REGISTER",
            uri: "sip:harness.test",
            body: b"",
        })
        .unwrap();
        (r.to_string(), cnonce)
    };
    let old_response = c.param("response").unwrap().into_owned();
    let second = second.replace(&old_response, &response2);
    assert!(!cnonce.is_empty());
    assert!(matches!(
        check(&mut v, &second, &t, 101, &u),
        Verdict::Authorized { .. }
    ));
    assert_eq!(
        check(&mut v, &first, &t, 102, &u),
        Verdict::Rejected(Rejection::Replay)
    );
}

#[test]
fn expired_nonce_with_right_answer_is_stale() {
    let (mut v, mut client, u) = setup(Algorithm::Md5);
    let t = RequestTarget::new("REGISTER", "sip:harness.test", "registrar.test", "alice");
    let value = exchange(&v, 1_000, &mut client, "alice", "secret-a", &t, 5);
    assert_eq!(check(&mut v, &value, &t, 1_000 + 301, &u), Verdict::Stale);
    // Wrong password with an expired nonce is refused, not stale.
    let bad = exchange(&v, 1_000, &mut client, "alice", "wrong", &t, 6);
    assert_eq!(
        check(&mut v, &bad, &t, 1_000 + 301, &u),
        Verdict::Rejected(Rejection::BadResponse)
    );
    let mut rng = SeededRandom::new(1);
    assert!(v.challenges(2_000, true, &mut rng)[0].contains("stale=true"));
}

#[test]
fn refusals_name_their_reason_and_status() {
    let (mut v, mut client, u) = setup(Algorithm::Sha256);
    let t = RequestTarget::new("REGISTER", "sip:harness.test", "registrar.test", "alice");
    let value = exchange(&v, 100, &mut client, "alice", "secret-a", &t, 5);
    // Another verifier (other key) did not issue this nonce.
    let mut other = DigestVerifier::new(v.config().clone(), &mut SeededRandom::new(10));
    assert_eq!(
        check(&mut other, &value, &t, 100, &u),
        Verdict::Rejected(Rejection::BadNonce)
    );
    // Wrong URI.
    let mut t2 = t;
    t2.uri = "sip:elsewhere.test";
    assert_eq!(
        check(&mut v, &value, &t2, 100, &u),
        Verdict::Rejected(Rejection::UriMismatch)
    );
    // Unknown user.
    let nobody = users("harness.test", "bob", "x");
    let verdict = check(&mut v, &value, &t, 100, &nobody);
    assert_eq!(verdict, Verdict::Rejected(Rejection::UnknownUser));
    assert_eq!(Rejection::UnknownUser.status().as_u16(), 403);
    assert_eq!(Rejection::BadNonce.status().as_u16(), 401);
    // Not Digest.
    let basic = Credentials::parse("Basic YWxpY2U6c2VjcmV0LWE=").unwrap();
    assert_eq!(
        v.verify(&basic, "REGISTER", "sip:harness.test", b"", 100, &u),
        Verdict::Rejected(Rejection::NotDigest)
    );
    // An algorithm that was not offered.
    let md5 = value.replace("algorithm=SHA-256", "algorithm=MD5");
    assert_eq!(
        check(&mut v, &md5, &t, 100, &u),
        Verdict::Rejected(Rejection::AlgorithmNotOffered)
    );
}

#[test]
fn ha1_stores_verify_too() {
    let (mut v, mut client, _) = setup(Algorithm::Sha256);
    let mut users = HashMap::new();
    let ha1 = ha1_base(HashFamily::Sha256, "alice", "harness.test", b"secret-a");
    users.insert(
        "alice".to_string(),
        Secret::Ha1 {
            family: HashFamily::Sha256,
            hex: Zeroizing::new(ha1.to_string()),
        },
    );
    let u = Users {
        realm: "harness.test".into(),
        users,
    };
    let t = RequestTarget::new("REGISTER", "sip:harness.test", "registrar.test", "alice");
    let value = exchange(&v, 100, &mut client, "alice", "secret-a", &t, 5);
    assert!(matches!(
        check(&mut v, &value, &t, 100, &u),
        Verdict::Authorized { .. }
    ));
}
