//! SIP response status codes (RFC 3261 §7.2, §21).
//!
//! [`StatusCode`] holds any code in `100..=699`, registered or not. The IANA
//! "Response Codes" registry (SIP Parameters) lives in one sorted table below;
//! the associated constants (`StatusCode::BUSY_HERE`, ...), the reason phrases,
//! the descriptions and the defining RFCs are all generated from it, and
//! lookups use binary search.
//!
//! A code missing from the registry is still a valid status code: RFC 3261
//! §8.1.3.2 has a UAC treat an unrecognised final response like the `x00` code
//! of its class, and an unrecognised provisional response like 183 Session
//! Progress (see [`StatusClass::fallback`]).

use std::fmt;

/// A SIP response status code, 100..=699 (RFC 3261 §7.2, §21), registered or not.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(u16);

/// The class of a status code, from its first digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// 1xx: request received, still being processed.
    Provisional,
    /// 2xx: the request was received, understood and accepted.
    Success,
    /// 3xx: further action (usually a retry elsewhere) is needed.
    Redirection,
    /// 4xx: bad request, or one this server cannot fulfil.
    ClientError,
    /// 5xx: the server failed to fulfil an apparently valid request.
    ServerError,
    /// 6xx: the request cannot be fulfilled at any server.
    GlobalFailure,
}

impl StatusClass {
    /// The class name used by RFC 3261 §7.2, e.g. `"Client Error"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Provisional => "Provisional",
            Self::Success => "Success",
            Self::Redirection => "Redirection",
            Self::ClientError => "Client Error",
            Self::ServerError => "Server Error",
            Self::GlobalFailure => "Global Failure",
        }
    }

    /// The code a UAC treats an unrecognised code of this class as (RFC 3261
    /// §8.1.3.2): 183 Session Progress for 1xx, the `x00` code otherwise.
    #[must_use]
    pub const fn fallback(self) -> StatusCode {
        match self {
            Self::Provisional => StatusCode::SESSION_PROGRESS,
            Self::Success => StatusCode::OK,
            Self::Redirection => StatusCode::MULTIPLE_CHOICES,
            Self::ClientError => StatusCode::BAD_REQUEST,
            Self::ServerError => StatusCode::SERVER_INTERNAL_ERROR,
            Self::GlobalFailure => StatusCode::BUSY_EVERYWHERE,
        }
    }

    /// Description of an unregistered code of this class.
    const fn unregistered_description(self) -> &'static str {
        match self {
            Self::Provisional => {
                "An unregistered provisional response: the request was received and is still \
                 being processed. A UAC treats an unrecognised 1xx code (other than 100) like \
                 183 Session Progress (RFC 3261 §8.1.3.2)."
            }
            Self::Success => {
                "An unregistered success response: the request was received, understood and \
                 accepted. It is handled like 200 OK, the x00 code of its class \
                 (RFC 3261 §8.1.3.2)."
            }
            Self::Redirection => {
                "An unregistered redirection response: further action, usually a retry at \
                 another address, is needed to complete the request. It is handled like \
                 300 Multiple Choices, the x00 code of its class (RFC 3261 §8.1.3.2)."
            }
            Self::ClientError => {
                "An unregistered client error: the request is malformed or cannot be fulfilled \
                 at this server. It is handled like 400 Bad Request, the x00 code of its class \
                 (RFC 3261 §8.1.3.2)."
            }
            Self::ServerError => {
                "An unregistered server error: the server failed to fulfil an apparently valid \
                 request. It is handled like 500 Server Internal Error, the x00 code of its \
                 class (RFC 3261 §8.1.3.2)."
            }
            Self::GlobalFailure => {
                "An unregistered global failure: the request cannot be fulfilled at any server. \
                 It is handled like 600 Busy Everywhere, the x00 code of its class \
                 (RFC 3261 §8.1.3.2)."
            }
        }
    }
}

impl StatusCode {
    /// The status code `code`, or `None` outside `100..=699`.
    #[must_use]
    pub const fn new(code: u16) -> Option<Self> {
        if matches!(code, 100..=699) {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The numeric value of the code.
    #[must_use]
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The class of the code, from its first digit.
    #[must_use]
    pub const fn class(self) -> StatusClass {
        match self.0 / 100 {
            1 => StatusClass::Provisional,
            2 => StatusClass::Success,
            3 => StatusClass::Redirection,
            4 => StatusClass::ClientError,
            5 => StatusClass::ServerError,
            _ => StatusClass::GlobalFailure,
        }
    }

    /// Whether this is a provisional (1xx) response.
    #[must_use]
    pub const fn is_provisional(self) -> bool {
        self.0 < 200
    }

    /// Whether this is a success (2xx) response.
    #[must_use]
    pub const fn is_success(self) -> bool {
        matches!(self.0, 200..=299)
    }

    /// Whether this is a final (2xx–6xx) response.
    #[must_use]
    pub const fn is_final(self) -> bool {
        self.0 >= 200
    }

    /// Whether this is a non-success final (3xx–6xx) response, redirections included.
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 >= 300
    }

    /// The registered reason phrase, or for an unregistered code the RFC 3261
    /// §7.2 name of its class (e.g. `"Client Error"` for 499).
    #[must_use]
    pub fn phrase(self) -> &'static str {
        entry(self.0).map_or_else(|| self.class().name(), |e| e.phrase)
    }

    /// A sentence or two on what the code means; for an unregistered code, a
    /// description of its class and how it is handled.
    #[must_use]
    pub fn description(self) -> &'static str {
        entry(self.0).map_or_else(
            || self.class().unregistered_description(),
            |e| e.description,
        )
    }

    /// Whether the code is in the IANA SIP "Response Codes" registry.
    #[must_use]
    pub fn is_registered(self) -> bool {
        entry(self.0).is_some()
    }

    /// The document the registry cites for a registered code, e.g. `"RFC 3261"`.
    #[must_use]
    pub fn defined_in(self) -> Option<&'static str> {
        entry(self.0).map(|e| e.rfc)
    }

    /// Every registered code, in ascending order.
    pub fn registered() -> impl Iterator<Item = Self> {
        REGISTRY.iter().map(|e| Self(e.code))
    }
}

/// One row of the registry.
struct Entry {
    code: u16,
    phrase: &'static str,
    description: &'static str,
    rfc: &'static str,
}

/// The registry row for `code`, if any.
fn entry(code: u16) -> Option<&'static Entry> {
    REGISTRY
        .binary_search_by_key(&code, |e| e.code)
        .ok()
        .map(|i| &REGISTRY[i])
}

/// Generates the associated constants and the `REGISTRY` table from one list of
/// `code NAME "Reason Phrase" "RFC nnnn" "description";` rows.
macro_rules! status_codes {
    ($($code:literal $name:ident $phrase:literal $rfc:literal $description:literal;)+) => {
        impl StatusCode {
            $(
                #[doc = concat!(stringify!($code), " ", $phrase, " (", $rfc, ").")]
                pub const $name: StatusCode = StatusCode($code);
            )+
        }

        /// The IANA SIP "Response Codes" registry, sorted by code.
        static REGISTRY: &[Entry] = &[
            $(Entry { code: $code, phrase: $phrase, description: $description, rfc: $rfc },)+
        ];

        /// Each constant with its name, in table order.
        #[cfg(test)]
        const CONSTANTS: &[(StatusCode, &str)] = &[$((StatusCode::$name, stringify!($name)),)+];
    };
}

// The IANA SIP Parameters "Response Codes" registry, complete, in ascending
// order. Phrases and references as registered; descriptions are our own.
status_codes! {
    // 1xx Provisional
    100 TRYING "Trying" "RFC 3261"
        "The next hop received the request and is working on it, which stops retransmission \
         of the request. It is hop-by-hop and says nothing about whether the callee was reached.";
    180 RINGING "Ringing" "RFC 3261"
        "The user agent received the INVITE and is alerting the user; the caller typically \
         plays ringback.";
    181 CALL_IS_BEING_FORWARDED "Call Is Being Forwarded" "RFC 3261"
        "A server is forwarding the call to a different set of destinations.";
    182 QUEUED "Queued" "RFC 3261"
        "The callee is temporarily unavailable, but the server queued the call instead of \
         rejecting it; the reason phrase may tell the position in the queue.";
    183 SESSION_PROGRESS "Session Progress" "RFC 3261"
        "Progress information about the call not otherwise classified, often carrying a \
         session description for early media.";
    199 EARLY_DIALOG_TERMINATED "Early Dialog Terminated" "RFC 6228"
        "A UAS or forking proxy tells upstream entities that an early dialog was terminated \
         before a final response is sent.";

    // 2xx Success
    200 OK "OK" "RFC 3261"
        "The request succeeded. In reply to an INVITE it carries the callee's session \
         description and establishes a dialog.";
    202 ACCEPTED "Accepted" "RFC 6665"
        "The request was accepted for processing that is not complete yet, as formerly used \
         for SUBSCRIBE and REFER. Deprecated by RFC 6665, which has 200 sent instead; a \
         receiver still treats it as success.";
    204 NO_NOTIFICATION "No Notification" "RFC 5839"
        "The subscription succeeded, but no NOTIFY follows because the subscriber's cached \
         copy of the event state, named by its entity tag, is still current.";

    // 3xx Redirection
    300 MULTIPLE_CHOICES "Multiple Choices" "RFC 3261"
        "The address resolved to several locations, listed in Contact, any of which the \
         client or user may choose to retry at.";
    301 MOVED_PERMANENTLY "Moved Permanently" "RFC 3261"
        "The user is no longer at the Request-URI; the client should retry at the address in \
         Contact and update any stored copy of the old one.";
    302 MOVED_TEMPORARILY "Moved Temporarily" "RFC 3261"
        "The client should retry at the address in Contact; the redirection holds only for a \
         limited time, which Expires may state.";
    305 USE_PROXY "Use Proxy" "RFC 3261"
        "The resource must be reached through the proxy named in Contact.";
    380 ALTERNATIVE_SERVICE "Alternative Service" "RFC 3261"
        "The call failed, but alternative services, described in the message body, are \
         possible.";

    // 4xx Client Error
    400 BAD_REQUEST "Bad Request" "RFC 3261"
        "The request could not be understood because of malformed syntax; the reason phrase \
         should say what is wrong.";
    401 UNAUTHORIZED "Unauthorized" "RFC 3261"
        "The request needs user authentication; a user agent or registrar sends a \
         WWW-Authenticate challenge to answer.";
    402 PAYMENT_REQUIRED "Payment Required" "RFC 3261"
        "Reserved for future use.";
    403 FORBIDDEN "Forbidden" "RFC 3261"
        "The server understood the request but refuses to fulfil it; authenticating will not \
         help, and the request should not be repeated.";
    404 NOT_FOUND "Not Found" "RFC 3261"
        "The user does not exist at the domain in the Request-URI, or that domain is not one \
         the recipient handles.";
    405 METHOD_NOT_ALLOWED "Method Not Allowed" "RFC 3261"
        "The method is understood but not allowed for the Request-URI; Allow lists the \
         methods that are.";
    406 NOT_ACCEPTABLE "Not Acceptable" "RFC 3261"
        "The resource can only produce responses whose content the Accept header field of \
         the request does not allow.";
    407 PROXY_AUTHENTICATION_REQUIRED "Proxy Authentication Required" "RFC 3261"
        "Like 401, but the client must authenticate with the proxy, which sends a \
         Proxy-Authenticate challenge.";
    408 REQUEST_TIMEOUT "Request Timeout" "RFC 3261"
        "The server could not produce a response in time, for example because it could not \
         locate the user; the request may be retried later.";
    410 GONE "Gone" "RFC 3261"
        "The resource is no longer available at the server and no forwarding address is \
         known; the condition is probably permanent.";
    412 CONDITIONAL_REQUEST_FAILED "Conditional Request Failed" "RFC 3903"
        "A conditional PUBLISH failed because its SIP-If-Match entity tag matches no event \
         state held by the server.";
    413 REQUEST_ENTITY_TOO_LARGE "Request Entity Too Large" "RFC 3261"
        "The request body is larger than the server is willing or able to process.";
    414 REQUEST_URI_TOO_LONG "Request-URI Too Long" "RFC 3261"
        "The Request-URI is longer than the server is willing to interpret.";
    415 UNSUPPORTED_MEDIA_TYPE "Unsupported Media Type" "RFC 3261"
        "The message body is in a format, encoding or language the server does not support; \
         Accept, Accept-Encoding or Accept-Language say what it does support.";
    416 UNSUPPORTED_URI_SCHEME "Unsupported URI Scheme" "RFC 3261"
        "The server does not know the scheme of the Request-URI.";
    417 UNKNOWN_RESOURCE_PRIORITY "Unknown Resource-Priority" "RFC 4412"
        "The request required resource-priority handling, but the server understood none of \
         its Resource-Priority values; Accept-Resource-Priority lists the ones it does.";
    420 BAD_EXTENSION "Bad Extension" "RFC 3261"
        "The server does not understand an extension named in Require or Proxy-Require; \
         Unsupported lists the offending option tags.";
    421 EXTENSION_REQUIRED "Extension Required" "RFC 3261"
        "The UAS needs an extension that the request does not list in Supported; Require \
         names the one needed.";
    422 SESSION_INTERVAL_TOO_SMALL "Session Interval Too Small" "RFC 4028"
        "The Session-Expires interval in the request is shorter than the server allows; \
         Min-SE gives the minimum.";
    423 INTERVAL_TOO_BRIEF "Interval Too Brief" "RFC 3261"
        "The expiration time of the resource being refreshed, such as a registration, is too \
         short; Min-Expires gives the minimum.";
    424 BAD_LOCATION_INFORMATION "Bad Location Information" "RFC 6442"
        "The location information in the request was malformed or not good enough for the \
         recipient; Geolocation-Error says why.";
    425 BAD_ALERT_MESSAGE "Bad Alert Message" "RFC 8876"
        "The alert message carried by a non-interactive emergency call was malformed or \
         unacceptable; AlertMsg-Error says why.";
    428 USE_IDENTITY_HEADER "Use Identity Header" "RFC 8224"
        "The verification service requires an Identity header field, and the request carried \
         no usable one.";
    429 PROVIDE_REFERRER_IDENTITY "Provide Referrer Identity" "RFC 3892"
        "The recipient requires a valid Referred-By token identifying the party whose REFER \
         prompted this request, and none was provided.";
    430 FLOW_FAILED "Flow Failed" "RFC 5626"
        "An edge proxy tells another proxy that the outbound flow to a user agent has failed, \
         so that another flow may be tried; it is not meant to reach the user agent.";
    433 ANONYMITY_DISALLOWED "Anonymity Disallowed" "RFC 5079"
        "The server refuses the request because it was made anonymously.";
    436 BAD_IDENTITY_INFO "Bad Identity Info" "RFC 8224"
        "The verification service could not obtain the credential referenced by the Identity \
         header field to check its signature (RFC 4474 called this Bad Identity-Info).";
    437 UNSUPPORTED_CREDENTIAL "Unsupported Credential" "RFC 8224"
        "The verification service obtained the signer's credential but does not support or \
         trust it (RFC 4474 called this Unsupported Certificate).";
    438 INVALID_IDENTITY_HEADER "Invalid Identity Header" "RFC 8224"
        "The signature in the Identity header field does not verify against the request, or \
         its claims are not acceptable.";
    439 FIRST_HOP_LACKS_OUTBOUND_SUPPORT "First Hop Lacks Outbound Support" "RFC 5626"
        "A registrar refuses an outbound registration because the first-hop proxy does not \
         support SIP Outbound.";
    440 MAX_BREADTH_EXCEEDED "Max-Breadth Exceeded" "RFC 5393"
        "The request could not be forwarded to all its targets because its Max-Breadth, the \
         limit on parallel forking, was used up.";
    469 BAD_INFO_PACKAGE "Bad Info Package" "RFC 6086"
        "An INFO request used an Info Package the receiver has not said it is willing to \
         receive.";
    470 CONSENT_NEEDED "Consent Needed" "RFC 5360"
        "A relay needs permission from one or more targets before sending to them; \
         Permission-Missing lists those targets.";
    480 TEMPORARILY_UNAVAILABLE "Temporarily Unavailable" "RFC 3261"
        "The callee's end system was reached but the callee is unavailable for now, e.g. not \
         logged in or not to be disturbed; Retry-After may suggest a better time.";
    481 CALL_TRANSACTION_DOES_NOT_EXIST "Call/Transaction Does Not Exist" "RFC 3261"
        "The request matches no existing dialog or transaction, e.g. a BYE or CANCEL for an \
         unknown call.";
    482 LOOP_DETECTED "Loop Detected" "RFC 3261"
        "The server detected that the request looped back to it.";
    483 TOO_MANY_HOPS "Too Many Hops" "RFC 3261"
        "The request arrived with Max-Forwards at zero and cannot be forwarded further.";
    484 ADDRESS_INCOMPLETE "Address Incomplete" "RFC 3261"
        "The Request-URI is incomplete, such as a partly dialled number; more digits may \
         follow.";
    485 AMBIGUOUS "Ambiguous" "RFC 3261"
        "The Request-URI is ambiguous; Contact may list unambiguous candidates.";
    486 BUSY_HERE "Busy Here" "RFC 3261"
        "The callee's end system was reached but the callee cannot take another call there; \
         the callee may be reachable elsewhere.";
    487 REQUEST_TERMINATED "Request Terminated" "RFC 3261"
        "The request was ended by a BYE or CANCEL before it completed; usually the answer to \
         a cancelled INVITE.";
    488 NOT_ACCEPTABLE_HERE "Not Acceptable Here" "RFC 3261"
        "Something in the session description, such as media, codecs or bandwidth, is not \
         acceptable at this user agent; Warning may say what.";
    489 BAD_EVENT "Bad Event" "RFC 6665"
        "The server does not understand the event package named in the Event header field of \
         a SUBSCRIBE or NOTIFY.";
    491 REQUEST_PENDING "Request Pending" "RFC 3261"
        "The UAS has another request pending in the same dialog, as when re-INVITEs cross; \
         the client retries after a random delay.";
    493 UNDECIPHERABLE "Undecipherable" "RFC 3261"
        "The request has an encrypted MIME body that the recipient lacks the key to decrypt.";
    494 SECURITY_AGREEMENT_REQUIRED "Security Agreement Required" "RFC 3329"
        "The server requires a security mechanism agreement first; Security-Server lists the \
         mechanisms it supports.";

    // 5xx Server Error
    500 SERVER_INTERNAL_ERROR "Server Internal Error" "RFC 3261"
        "The server hit an unexpected condition that kept it from fulfilling the request.";
    501 NOT_IMPLEMENTED "Not Implemented" "RFC 3261"
        "The server does not support what the request needs, e.g. it does not know the \
         method.";
    502 BAD_GATEWAY "Bad Gateway" "RFC 3261"
        "The server, acting as a gateway or proxy, got an invalid response from a server \
         downstream.";
    503 SERVICE_UNAVAILABLE "Service Unavailable" "RFC 3261"
        "The server is temporarily overloaded or down for maintenance; Retry-After may say \
         when to try again.";
    504 SERVER_TIMEOUT "Server Time-out" "RFC 3261"
        "The server did not get a timely response from another server it needed, such as a \
         location server.";
    505 VERSION_NOT_SUPPORTED "Version Not Supported" "RFC 3261"
        "The server does not support the SIP version of the request.";
    513 MESSAGE_TOO_LARGE "Message Too Large" "RFC 3261"
        "The message is longer than the server can process.";
    555 PUSH_NOTIFICATION_SERVICE_NOT_SUPPORTED "Push Notification Service Not Supported" "RFC 8599"
        "The server does not support the push notification service named by the pn-provider \
         SIP URI parameter.";
    580 PRECONDITION_FAILURE "Precondition Failure" "RFC 3312"
        "The server cannot or will not meet the preconditions, such as resource reservation, \
         that the session offer requires.";

    // 6xx Global Failure
    600 BUSY_EVERYWHERE "Busy Everywhere" "RFC 3261"
        "The callee was reached but is busy and will not take the call at this time, at this \
         or any other end system.";
    603 DECLINE "Decline" "RFC 3261"
        "The callee was reached but does not wish to, or cannot, take part; Retry-After may \
         suggest a better time.";
    604 DOES_NOT_EXIST_ANYWHERE "Does Not Exist Anywhere" "RFC 3261"
        "The server knows authoritatively that the user in the Request-URI does not exist \
         anywhere.";
    606 GLOBAL_NOT_ACCEPTABLE "Not Acceptable" "RFC 3261"
        "The user was reached, but something in the session description is not acceptable \
         to any of the user's end systems; Warning may say what.";
    607 UNWANTED "Unwanted" "RFC 8197"
        "The called party marks the call as unwanted, such as spam, so the network can use \
         that to handle similar calls.";
    608 REJECTED "Rejected" "RFC 8688"
        "An intermediary, such as a call-analytics service, rejected the call on the callee's \
         behalf; Call-Info may identify it so the caller can seek redress.";
}

// The table is strictly ascending and within 100..=699; checked at compile time.
const _: () = {
    let mut i = 0;
    while i < REGISTRY.len() {
        assert!(matches!(REGISTRY[i].code, 100..=699));
        assert!(i == 0 || REGISTRY[i - 1].code < REGISTRY[i].code);
        i += 1;
    }
};

impl fmt::Debug for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StatusCode").field(&self.0).finish()
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.phrase())
    }
}

/// A number outside `100..=699`, refused as a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidStatusCode(pub u16);

impl fmt::Display for InvalidStatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid SIP status code {} (must be 100 to 699)", self.0)
    }
}

impl std::error::Error for InvalidStatusCode {}

impl TryFrom<u16> for StatusCode {
    type Error = InvalidStatusCode;

    fn try_from(code: u16) -> Result<Self, Self::Error> {
        Self::new(code).ok_or(InvalidStatusCode(code))
    }
}

impl From<StatusCode> for u16 {
    fn from(code: StatusCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(REGISTRY.windows(2).all(|w| w[0].code < w[1].code));
        assert_eq!(REGISTRY.len(), 75);
        let per_class =
            |c: StatusClass| StatusCode::registered().filter(|s| s.class() == c).count();
        assert_eq!(per_class(StatusClass::Provisional), 6);
        assert_eq!(per_class(StatusClass::Success), 3);
        assert_eq!(per_class(StatusClass::Redirection), 5);
        assert_eq!(per_class(StatusClass::ClientError), 46);
        assert_eq!(per_class(StatusClass::ServerError), 9);
        assert_eq!(per_class(StatusClass::GlobalFailure), 6);
        for e in REGISTRY {
            assert!(
                !e.phrase.is_empty() && e.phrase.trim() == e.phrase,
                "{}",
                e.code
            );
            assert!(e.description.ends_with('.'), "{}", e.code);
            assert!(!e.description.contains("  "), "{}", e.code);
            assert!(e.rfc.starts_with("RFC "), "{}", e.code);
            assert!(e.rfc[4..].bytes().all(|b| b.is_ascii_digit()), "{}", e.code);
        }
    }

    #[test]
    fn registered_is_ascending_and_matches_table() {
        let codes: Vec<u16> = StatusCode::registered().map(u16::from).collect();
        let table: Vec<u16> = REGISTRY.iter().map(|e| e.code).collect();
        assert_eq!(codes, table);
        assert!(StatusCode::registered().all(StatusCode::is_registered));
    }

    /// The constant name derived from a reason phrase: upper case, with each
    /// run of other characters turned into one underscore.
    fn derived_name(phrase: &str) -> String {
        let mut name = String::new();
        for word in phrase.split(|c: char| !c.is_ascii_alphanumeric()) {
            if !word.is_empty() {
                if !name.is_empty() {
                    name.push('_');
                }
                name.push_str(&word.to_ascii_uppercase());
            }
        }
        name
    }

    #[test]
    fn constants_match_table() {
        assert_eq!(CONSTANTS.len(), REGISTRY.len());
        for ((code, name), e) in CONSTANTS.iter().zip(REGISTRY) {
            assert_eq!(code.as_u16(), e.code);
            assert_eq!(code.phrase(), e.phrase);
            let expected = match e.code {
                504 => "SERVER_TIMEOUT".to_owned(),
                606 => "GLOBAL_NOT_ACCEPTABLE".to_owned(),
                _ => derived_name(e.phrase),
            };
            assert_eq!(*name, expected, "{}", e.code);
        }
        assert_eq!(StatusCode::NOT_ACCEPTABLE.as_u16(), 406);
        assert_eq!(StatusCode::NOT_ACCEPTABLE_HERE.as_u16(), 488);
        assert_eq!(StatusCode::GLOBAL_NOT_ACCEPTABLE.as_u16(), 606);
        assert_eq!(StatusCode::SERVER_TIMEOUT.phrase(), "Server Time-out");
        assert_eq!(StatusCode::BUSY_HERE.defined_in(), Some("RFC 3261"));
        assert_eq!(StatusCode::BAD_EVENT.defined_in(), Some("RFC 6665"));
        assert_eq!(StatusCode::REJECTED.defined_in(), Some("RFC 8688"));
    }

    #[test]
    fn class_boundaries() {
        let cases = [
            (100, StatusClass::Provisional),
            (199, StatusClass::Provisional),
            (200, StatusClass::Success),
            (299, StatusClass::Success),
            (300, StatusClass::Redirection),
            (399, StatusClass::Redirection),
            (400, StatusClass::ClientError),
            (499, StatusClass::ClientError),
            (500, StatusClass::ServerError),
            (599, StatusClass::ServerError),
            (600, StatusClass::GlobalFailure),
            (699, StatusClass::GlobalFailure),
        ];
        for (n, class) in cases {
            let code = StatusCode::new(n).unwrap();
            assert_eq!(code.class(), class, "{n}");
            assert_eq!(code.is_provisional(), n < 200, "{n}");
            assert_eq!(code.is_success(), (200..300).contains(&n), "{n}");
            assert_eq!(code.is_final(), n >= 200, "{n}");
            assert_eq!(code.is_error(), n >= 300, "{n}");
            assert_eq!(class.fallback().class(), class);
        }
        assert_eq!(
            StatusClass::Provisional.fallback(),
            StatusCode::SESSION_PROGRESS
        );
        assert_eq!(StatusClass::ClientError.fallback(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn out_of_range() {
        for n in [0, 1, 99, 700, 999, u16::MAX] {
            assert_eq!(StatusCode::new(n), None);
            assert_eq!(StatusCode::try_from(n), Err(InvalidStatusCode(n)));
        }
        assert_eq!(StatusCode::try_from(486), Ok(StatusCode::BUSY_HERE));
        assert_eq!(
            InvalidStatusCode(700).to_string(),
            "invalid SIP status code 700 (must be 100 to 699)"
        );
    }

    #[test]
    fn unregistered_codes() {
        let cases = [
            (150, "Provisional", 183),
            (201, "Success", 200),
            (399, "Redirection", 300),
            (499, "Client Error", 400),
            (599, "Server Error", 500),
            (699, "Global Failure", 600),
        ];
        for (n, phrase, like) in cases {
            let code = StatusCode::new(n).unwrap();
            let fallback = code.class().fallback();
            assert!(!code.is_registered(), "{n}");
            assert_eq!(code.class().name(), phrase);
            assert_eq!(code.phrase(), phrase);
            assert_eq!(code.defined_in(), None);
            assert_eq!(fallback.as_u16(), like);
            assert!(fallback.is_registered());
            assert!(code.description().contains(&fallback.to_string()), "{n}");
            assert!(code.description().contains("unregistered"), "{n}");
            assert_eq!(code.to_string(), format!("{n} {phrase}"));
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(StatusCode::BUSY_HERE.to_string(), "486 Busy Here");
        assert_eq!(StatusCode::OK.to_string(), "200 OK");
        assert_eq!(
            StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST.to_string(),
            "481 Call/Transaction Does Not Exist"
        );
        assert_eq!(format!("{:?}", StatusCode::BUSY_HERE), "StatusCode(486)");
        assert_eq!(u16::from(StatusCode::DECLINE), 603);
        assert_eq!(StatusCode::DECLINE.as_u16(), 603);
    }

    #[test]
    fn lookups() {
        assert!(StatusCode::EARLY_DIALOG_TERMINATED.is_registered());
        assert_eq!(
            StatusCode::EARLY_DIALOG_TERMINATED.defined_in(),
            Some("RFC 6228")
        );
        assert_eq!(StatusCode::GLOBAL_NOT_ACCEPTABLE.phrase(), "Not Acceptable");
        assert!(StatusCode::ACCEPTED.description().contains("Deprecated"));
        assert!(!StatusCode::new(409).unwrap().is_registered());
        assert!(!StatusCode::new(411).unwrap().is_registered());
        assert!(StatusCode::new(100).unwrap() < StatusCode::new(699).unwrap());
    }
}
