//! Message waiting indication (RFC 3842): the `application/simple-message-summary`
//! body of a `message-summary` NOTIFY, which a voicemail server sends to say that
//! messages wait (unsolicited, or in a subscription).

/// How many messages of one kind wait: `new/old (urgent new/urgent old)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// New messages.
    pub new: u32,
    /// Old (heard) messages.
    pub old: u32,
    /// New urgent messages.
    pub urgent_new: u32,
    /// Old urgent messages.
    pub urgent_old: u32,
}

/// A message summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageSummary {
    /// `Messages-Waiting: yes`.
    pub waiting: bool,
    /// The mailbox (`Message-Account`), when given.
    pub account: Option<String>,
    /// The voice messages (`Voice-Message`), when given.
    pub voice: Option<MessageCounts>,
}

/// `2/8 (0/2)`.
fn counts(v: &str) -> Option<MessageCounts> {
    let (main, urgent) = match v.split_once('(') {
        Some((m, u)) => (m, Some(u.trim().trim_end_matches(')'))),
        None => (v, None),
    };
    let pair = |s: &str| -> Option<(u32, u32)> {
        let (a, b) = s.split_once('/')?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    let (new, old) = pair(main.trim())?;
    let (urgent_new, urgent_old) = match urgent {
        Some(u) => pair(u)?,
        None => (0, 0),
    };
    Some(MessageCounts {
        new,
        old,
        urgent_new,
        urgent_old,
    })
}

impl MessageSummary {
    /// Reads a summary body; `None` when it has no `Messages-Waiting` line.
    pub fn parse(body: &[u8]) -> Option<MessageSummary> {
        let text = std::str::from_utf8(body).ok()?;
        let mut waiting = None;
        let mut summary = MessageSummary::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "messages-waiting" => waiting = Some(value.eq_ignore_ascii_case("yes")),
                "message-account" => summary.account = Some(value.to_string()),
                "voice-message" => summary.voice = counts(value),
                _ => {}
            }
        }
        summary.waiting = waiting?;
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3842_example() {
        let s = MessageSummary::parse(
            b"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n",
        )
        .unwrap();
        assert!(s.waiting);
        assert_eq!(s.account.as_deref(), Some("sip:alice@vmail.example.com"));
        assert_eq!(
            s.voice,
            Some(MessageCounts {
                new: 2,
                old: 8,
                urgent_new: 0,
                urgent_old: 2
            })
        );
        let none = MessageSummary::parse(b"Messages-Waiting: no\r\n").unwrap();
        assert!(!none.waiting && none.voice.is_none());
        assert_eq!(MessageSummary::parse(b"Voice-Message: 1/0\r\n"), None);
    }
}
