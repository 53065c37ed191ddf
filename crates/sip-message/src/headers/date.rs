//! Date (RFC 3261 §20.17): an RFC 1123 date, always in GMT, e.g.
//! `Sat, 13 Nov 2010 23:29:00 GMT`.

use std::fmt;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::combinator::{map_res, value};
use nom::{IResult, Parser};

use crate::error::{SyntaxError, SyntaxErrorKind};
use crate::headers::TypedHeader;
use crate::lex;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A Date header value, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpDate {
    /// The day of the week as written.
    pub weekday: Weekday,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Month, 1..=12.
    pub month: u8,
    /// Year.
    pub year: u16,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=60 (leap second).
    pub second: u8,
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl HttpDate {
    /// Seconds since the Unix epoch.
    pub fn to_unix(&self) -> i64 {
        days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        ) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The date for a number of seconds since the Unix epoch (years 0..=9999).
    pub fn from_unix(secs: i64) -> HttpDate {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let weekday = [
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
        ][days.rem_euclid(7) as usize];
        HttpDate {
            weekday,
            day: day as u8,
            month: month as u8,
            year: year.clamp(0, 9999) as u16,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
        }
    }
}

fn digits<'a>(n: usize) -> impl Parser<&'a str, Output = u16, Error = nom::error::Error<&'a str>> {
    map_res(
        take_while_m_n(n, n, |c: char| c.is_ascii_digit()),
        |s: &str| s.parse::<u16>(),
    )
}

fn weekday(i: &str) -> IResult<&str, Weekday> {
    alt((
        value(Weekday::Mon, tag("Mon")),
        value(Weekday::Tue, tag("Tue")),
        value(Weekday::Wed, tag("Wed")),
        value(Weekday::Thu, tag("Thu")),
        value(Weekday::Fri, tag("Fri")),
        value(Weekday::Sat, tag("Sat")),
        value(Weekday::Sun, tag("Sun")),
    ))
    .parse(i)
}

fn month(i: &str) -> IResult<&str, u8> {
    let (rest, m) = take_while_m_n(3, 3, |c: char| c.is_ascii_alphabetic()).parse(i)?;
    match MONTHS.iter().position(|x| *x == m) {
        Some(p) => Ok((rest, p as u8 + 1)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

fn rfc1123(i: &str) -> IResult<&str, HttpDate> {
    let (i, (weekday, _, day, _, month, _, year, _, hour, _, minute, _, second, _)) = (
        weekday,
        tag(", "),
        digits(2),
        tag(" "),
        month,
        tag(" "),
        digits(4),
        tag(" "),
        digits(2),
        tag(":"),
        digits(2),
        tag(":"),
        digits(2),
        tag(" GMT"),
    )
        .parse(i)?;
    Ok((
        i,
        HttpDate {
            weekday,
            day: day as u8,
            month,
            year,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
        },
    ))
}

impl<'a> TypedHeader<'a> for HttpDate {
    const LIST: bool = false;

    fn parse_at(base: &'a str, pos: usize, end: usize) -> Result<(Self, usize), SyntaxError> {
        let p = lex::skip_lws(base.as_bytes(), pos, end);
        let (rest, d) =
            rfc1123(&base[p..end]).map_err(|_| SyntaxError::expected("RFC 1123 date in GMT", p))?;
        let valid = (1..=31).contains(&d.day) && d.hour < 24 && d.minute < 60 && d.second <= 60;
        if !valid {
            return Err(SyntaxError::new(SyntaxErrorKind::BadNumber, p));
        }
        Ok((d, end - rest.len()))
    }
}

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[self.weekday as usize],
            self.day,
            MONTHS[usize::from(self.month.clamp(1, 12)) - 1],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = HttpDate::parse("Sat, 13 Nov 2010 23:29:00 GMT").unwrap();
        assert_eq!((d.day, d.month, d.year, d.hour), (13, 11, 2010, 23));
        assert_eq!(d.to_unix(), 1_289_690_940);
        assert_eq!(HttpDate::from_unix(d.to_unix()), d);
        assert_eq!(d.to_string(), "Sat, 13 Nov 2010 23:29:00 GMT");
        assert!(HttpDate::parse("Sat, 13 Nov 2010 23:29:00 EST").is_err());
        assert!(HttpDate::parse("Sat, 13 Foo 2010 23:29:00 GMT").is_err());
        assert!(HttpDate::parse("Sat, 13 Nov 2010 25:29:00 GMT").is_err());
        assert_eq!(
            HttpDate::from_unix(0).to_string(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
