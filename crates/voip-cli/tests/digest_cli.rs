//! `voip digest` against the RFC examples and the independent vectors.

use std::process::Command;

fn digest(args: &[&str]) -> (i32, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_voip"))
        .arg("digest")
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.code().unwrap(), lines)
}

#[test]
fn rfc2617_example() {
    let (code, lines) = digest(&[
        "--username",
        "Mufasa",
        "--password",
        "Circle Of Life",
        "--realm",
        "testrealm@host.com",
        "--nonce",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "--method",
        "GET",
        "--uri",
        "/dir/index.html",
        "--qop",
        "auth",
        "--nc",
        "00000001",
        "--cnonce",
        "0a4f113b",
        "--opaque",
        "5ccc069c403ebaf9f0171e9517f40e41",
    ]);
    assert_eq!(code, 0);
    assert_eq!(lines[0], "6629fae49393a05397450978507c4ef1");
    assert_eq!(
        lines[1],
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", response=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001"
    );
}

#[test]
fn pasted_challenge() {
    let (code, lines) = digest(&[
        "--username",
        "Mufasa",
        "--password",
        "Circle of Life",
        "--method",
        "GET",
        "--uri",
        "/dir/index.html",
        "--cnonce",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "--challenge",
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        lines[0],
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert!(lines[1].contains("algorithm=SHA-256"));
    assert!(lines[1].contains("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
}

#[test]
fn userhash_and_sha512_256() {
    let (code, lines) = digest(&[
        "--username",
        "J\u{e4}s\u{f8}n Doe",
        "--password",
        "Secret, or not?",
        "--realm",
        "api@example.org",
        "--nonce",
        "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
        "--method",
        "GET",
        "--uri",
        "/doe.json",
        "--algorithm",
        "SHA-512-256",
        "--qop",
        "auth",
        "--cnonce",
        "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        "--userhash",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        lines[0],
        "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
    );
    assert!(lines[1].starts_with(
        "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\""
    ));
    assert!(lines[1].ends_with(", userhash=true"));
}

#[test]
fn independent_vectors_sess_and_auth_int() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sip-auth/tests/data/vectors.json"
    );
    let cases: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("voip-digest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    for c in cases.iter().filter(|c| c["qop"] != "") {
        let s = |k: &str| c[k].as_str().unwrap().to_string();
        let body_file = dir.join("body");
        std::fs::write(&body_file, s("body")).unwrap();
        let mut args = vec![
            "--username".to_string(),
            s("username"),
            "--password".into(),
            s("password"),
            "--realm".into(),
            s("realm"),
            "--nonce".into(),
            s("nonce"),
            "--method".into(),
            s("method"),
            "--uri".into(),
            s("uri"),
            "--algorithm".into(),
            s("algorithm"),
            "--qop".into(),
            s("qop"),
            "--nc".into(),
            s("nc"),
            "--cnonce".into(),
            s("cnonce"),
            "--body-file".into(),
            body_file.display().to_string(),
        ];
        if c["userhash"].as_bool().unwrap() {
            args.push("--userhash".into());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, lines) = digest(&argv);
        assert_eq!(code, 0);
        assert_eq!(lines[0], s("response"), "{} {}", s("algorithm"), s("qop"));
        assert!(lines[1].contains(&format!("username=\"{}\"", s("username_field"))));
        checked += 1;
    }
    assert_eq!(checked, 72);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors() {
    let (code, _) = digest(&[
        "--username",
        "a",
        "--password",
        "b",
        "--method",
        "GET",
        "--uri",
        "x",
    ]);
    assert_eq!(code, 2);
    let (code, _) = digest(&[
        "--username",
        "a",
        "--password",
        "b",
        "--method",
        "GET",
        "--uri",
        "x",
        "--challenge",
        "Basic realm=\"x\"",
    ]);
    assert_eq!(code, 2);
    let (code, _) = digest(&[
        "--username",
        "a",
        "--password",
        "b",
        "--method",
        "GET",
        "--uri",
        "x",
        "--realm",
        "r",
        "--nonce",
        "n",
        "--qop",
        "auth",
        "--nc",
        "zz",
    ]);
    assert_eq!(code, 2);
}
