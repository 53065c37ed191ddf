#!/usr/bin/env python3
"""Independent digest vectors for sip-auth's tests, computed with Python's hashlib.

Run: python3 gen_vectors.py > vectors.json   (the output is committed; the tests read it)

Follows RFC 7616 section 3.4 (and RFC 2617 for qop-less responses):
  HA1 = H(username:realm:password); -sess: HA1 = H(H(username:realm:password):nonce:cnonce)
  HA2 = H(method:uri); auth-int: HA2 = H(method:uri:H(body))
  response = H(HA1:nonce:nc:cnonce:qop:HA2), or without qop H(HA1:nonce:HA2)
  userhash: username field = H(username:realm)
"""
import hashlib
import json

ALGS = {
    "MD5": "md5",
    "MD5-sess": "md5",
    "SHA-256": "sha256",
    "SHA-256-sess": "sha256",
    "SHA-512-256": "sha512_256",
    "SHA-512-256-sess": "sha512_256",
}

def h(name, data):
    return hashlib.new(name, data.encode("utf-8") if isinstance(data, str) else data).hexdigest()

def response(alg, username, realm, password, nonce, cnonce, nc, qop, method, uri, body):
    name = ALGS[alg]
    ha1 = h(name, f"{username}:{realm}:{password}")
    if alg.endswith("-sess"):
        ha1 = h(name, f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        ha2 = h(name, f"{method}:{uri}:{h(name, body)}")
    else:
        ha2 = h(name, f"{method}:{uri}")
    if qop:
        return h(name, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return h(name, f"{ha1}:{nonce}:{ha2}")

cases = []
inputs = [
    dict(username="alice", realm="harness.test", password="secret-a", nonce="5f7a0c3e9b1d2a44",
         cnonce="0a4f113b", nc="00000001", method="REGISTER", uri="sip:harness.test", body=""),
    dict(username="bob", realm="biloxi.example.com", password="zanzibar", nonce="ea9c8e88df84f1cec4341ae6cbe5a359",
         cnonce="e7f1d2", nc="0000002a", method="INVITE", uri="sip:bob@biloxi.example.com;transport=tcp",
         body="v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"),
    dict(username="J\u00e4s\u00f8n Doe", realm="api@example.org", password="Secret, or not?",
         nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
         nc="00000001", method="BYE", uri="sip:carol@chicago.example.com", body=""),
]
for inp in inputs:
    for alg in ALGS:
        for qop in ["", "auth", "auth-int"]:
            for userhash in [False, True]:
                c = dict(inp, algorithm=alg, qop=qop, userhash=userhash)
                c["response"] = response(alg, **{k: inp[k] for k in ["username", "realm", "password", "nonce", "cnonce", "nc", "method", "uri", "body"]}, qop=qop)
                c["username_field"] = h(ALGS[alg], f"{inp['username']}:{inp['realm']}") if userhash else inp["username"]
                c["ha1"] = h(ALGS[alg], f"{inp['username']}:{inp['realm']}:{inp['password']}")
                cases.append(c)
print(json.dumps(cases, indent=1, ensure_ascii=False))
