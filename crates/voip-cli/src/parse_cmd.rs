//! `voip parse [FILE|-] [--json] [--stream]`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};
use sip_message::headers::Rport;
use sip_message::{Framing, HeaderName, Limits, Message, MessageKind, ParseError};

/// Arguments of `voip parse`.
#[derive(Args, Debug)]
pub(crate) struct ParseArgs {
    /// The message file; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Print one JSON object with the verdict and the decoded fields.
    #[arg(long)]
    json: bool,
    /// Frame the input as a TCP/TLS stream (Content-Length required) instead of a datagram.
    #[arg(long)]
    stream: bool,
}

fn read_input(file: &Option<PathBuf>, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    // Read one byte past the limit, so an oversized input is seen as such without
    // reading all of it.
    match file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::File::open(p)?
                .take(limit + 1)
                .read_to_end(&mut buf)?;
        }
        _ => {
            std::io::stdin()
                .lock()
                .take(limit + 1)
                .read_to_end(&mut buf)?;
        }
    }
    Ok(buf)
}

/// Parses the input with datagram or stream rules.
pub(crate) fn parse_input(
    data: Vec<u8>,
    stream: bool,
    limits: &Limits,
) -> Result<Message, ParseError> {
    if stream {
        Message::parse_stream(data, limits).map(|(m, _)| m)
    } else {
        Message::parse_with(data, limits, Framing::Datagram)
    }
}

fn name_addr_json(a: &sip_message::headers::NameAddr<'_>) -> Value {
    json!({
        "display_name": a.display_name().map(|d| d.into_owned()),
        "uri": a.uri().as_str(),
        "tag": a.tag(),
    })
}

fn rejected(e: &ParseError) -> Value {
    let kind = match e.message_kind() {
        Some(MessageKind::Request) => Value::from("request"),
        Some(MessageKind::Response) => Value::from("response"),
        None => Value::Null,
    };
    json!({
        "verdict": "reject",
        "error": e.to_string(),
        "response": e.response().map(|s| s.as_u16()),
        "kind": kind,
        "method": null, "request_uri": null, "status": null, "reason": null,
        "call_id": null, "cseq": null, "from": null, "to": null,
        "via": [], "contact": [],
        "max_forwards": null, "content_length": null, "content_type": null,
        "body_len": 0, "headers": [], "authenticate": [],
    })
}

/// The JSON object for an accepted message.
pub(crate) fn accepted(m: &Message) -> Value {
    let (kind, method, request_uri, status, reason) = match m {
        Message::Request(r) => (
            "request",
            Value::from(r.method().as_str()),
            Value::from(r.uri().as_str()),
            Value::Null,
            Value::Null,
        ),
        Message::Response(r) => (
            "response",
            Value::Null,
            Value::Null,
            Value::from(r.status().as_u16()),
            Value::from(r.reason()),
        ),
    };
    let via: Vec<Value> = m
        .vias()
        .map(|v| {
            json!({
                "transport": v.transport(),
                "host": v.host(),
                "port": v.port(),
                "branch": v.branch(),
                "received": v.received(),
                "rport": match v.rport() {
                    Some(Rport::Requested) => Value::Bool(true),
                    Some(Rport::Port(p)) => Value::from(p),
                    None => Value::Null,
                },
            })
        })
        .collect();
    let contact: Vec<Value> = m
        .contacts()
        .map(|c| {
            json!({
                "display_name": c.display_name().map(|d| d.into_owned()),
                "uri": c.uri().as_str(),
                "expires": c.expires(),
            })
        })
        .collect();
    let headers: Vec<Value> = m.headers().map(|h| json!([h.raw_name, h.value])).collect();
    let authenticate: Vec<Value> = m
        .auth_headers()
        .filter_map(|(name, a)| a.ok().map(|a| (name, a)))
        .map(|(name, a)| {
            let params: Map<String, Value> = a
                .params()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        Value::from(sip_message::unquote(v).into_owned()),
                    )
                })
                .collect();
            json!({ "header": name.as_str(), "scheme": a.scheme(), "params": params })
        })
        .collect();
    let cseq = m.cseq();
    json!({
        "verdict": "accept",
        "error": null,
        "response": null,
        "kind": kind,
        "method": method,
        "request_uri": request_uri,
        "status": status,
        "reason": reason,
        "call_id": m.call_id(),
        "cseq": { "seq": cseq.seq, "method": cseq.method.as_str() },
        "from": name_addr_json(&m.from()),
        "to": name_addr_json(&m.to()),
        "via": via,
        "contact": contact,
        "max_forwards": m.max_forwards(),
        "content_length": m.content_length(),
        "content_type": m.header(HeaderName::ContentType),
        "body_len": m.body().len(),
        "headers": headers,
        "authenticate": authenticate,
    })
}

/// Runs `voip parse`.
pub(crate) fn run(args: &ParseArgs) -> ExitCode {
    let limits = Limits::default();
    let data = match read_input(&args.file, limits.max_message_size as u64) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("voip parse: {e}");
            return ExitCode::from(2);
        }
    };
    let result = parse_input(data, args.stream, &limits);
    if args.json {
        let v = match &result {
            Ok(m) => accepted(m),
            Err(e) => rejected(e),
        };
        println!("{v}");
    } else {
        match &result {
            Ok(m) => print!("{}", m.summary()),
            Err(e) => match e.response() {
                Some(s) => println!("reject: {e} (a server answers {s})"),
                None => println!("reject: {e} (dropped, no answer)"),
            },
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
