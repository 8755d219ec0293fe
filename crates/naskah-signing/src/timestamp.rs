//! RFC 3161 timestamps from the department's timestamp authority (TSA): the request
//! over a SHA-256 digest, the HTTP exchange (bounded in time and size) and the checks
//! we make on the answer (granted, our digest, our nonce). The TSA's own signature is
//! checked by whoever validates the PDF (pyHanko, Acrobat): its key may be RSA, which
//! this crate does not verify.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::der::{self, Malformed, Reader};

const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
/// A timestamp token is a few KiB; anything far larger is not one.
const MAX_RESPONSE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("otoritas stempel waktu tidak dapat dihubungi: {0}")]
    Unreachable(String),
    #[error("otoritas stempel waktu menjawab HTTP {0}")]
    Status(u16),
    #[error("otoritas stempel waktu menolak permintaan (status {0})")]
    Refused(i64),
    #[error("jawaban otoritas stempel waktu tidak sah: {0}")]
    Invalid(&'static str),
}

impl From<Malformed> for TimestampError {
    fn from(e: Malformed) -> Self {
        TimestampError::Invalid(e.0)
    }
}

/// A granted timestamp token (a CMS ContentInfo) and what it says.
#[derive(Debug, Clone)]
pub struct Token {
    pub der: Vec<u8>,
    /// genTime, Unix seconds.
    pub time: i64,
    /// The certificates the TSA put in the token (its own and its chain).
    pub certificates: Vec<Vec<u8>>,
}

/// Where the timestamps come from: the HTTP client in service, anything in unit tests.
pub trait Authority: Send + Sync {
    /// A token over `digest` (SHA-256).
    fn stamp(&self, digest: &[u8; 32]) -> Result<Token, TimestampError>;
}

/// The TimeStampReq for a SHA-256 digest, asking for the TSA's certificate.
pub fn request(digest: &[u8; 32], nonce: &[u8; 8]) -> Vec<u8> {
    let imprint = der::sequence(&[&der::sequence(&[&der::oid(OID_SHA256)]), &der::octet_string(digest)]);
    der::sequence(&[&der::small_integer(1), &imprint, &der::unsigned_integer(nonce), &der::boolean(true)])
}

/// Reads a TimeStampResp and checks it answers `digest` with `nonce`.
pub fn read_response(response: &[u8], digest: &[u8; 32], nonce: &[u8; 8]) -> Result<Token, TimestampError> {
    let mut outer = Reader::new(response).nested(der::SEQUENCE)?;
    let mut status = outer.nested(der::SEQUENCE)?;
    let code = integer(status.expect(der::INTEGER)?.content).ok_or(TimestampError::Invalid("status"))?;
    // 0 granted, 1 granted with modifications.
    if code > 1 {
        return Err(TimestampError::Refused(code));
    }
    let token = outer
        .expect(der::SEQUENCE)
        .map_err(|_| TimestampError::Invalid("token tidak ada"))?;
    let read = read_token(token.raw)?;
    if read.imprint != digest {
        return Err(TimestampError::Invalid("ringkasan dalam token bukan ringkasan yang diminta"));
    }
    if read.nonce.as_deref() != Some(der::unsigned_integer(nonce).get(2..).unwrap_or_default()) {
        return Err(TimestampError::Invalid("nonce dalam token bukan nonce yang diminta"));
    }
    Ok(Token {
        der: token.raw.to_vec(),
        time: read.time,
        certificates: read.certificates,
    })
}

/// What a timestamp token carries.
#[derive(Debug)]
pub struct TokenContents {
    pub imprint: Vec<u8>,
    pub nonce: Option<Vec<u8>>,
    pub time: i64,
    pub certificates: Vec<Vec<u8>>,
}

/// Reads a timestamp token (ContentInfo with SignedData over a TSTInfo).
pub fn read_token(token: &[u8]) -> Result<TokenContents, TimestampError> {
    let mut info = Reader::new(token).nested(der::SEQUENCE)?;
    if der::oid_text(info.expect(der::OID)?.content) != OID_SIGNED_DATA {
        return Err(TimestampError::Invalid("token bukan SignedData"));
    }
    let mut signed = Reader::new(info.expect(0xa0)?.content).nested(der::SEQUENCE)?;
    signed.expect(der::INTEGER)?;
    signed.expect(der::SET)?;
    let mut encapsulated = signed.nested(der::SEQUENCE)?;
    if der::oid_text(encapsulated.expect(der::OID)?.content) != OID_TST_INFO {
        return Err(TimestampError::Invalid("token bukan TSTInfo"));
    }
    let content = Reader::new(encapsulated.expect(0xa0)?.content).expect(der::OCTET_STRING)?.content;
    let mut certificates = Vec::new();
    if let Some(list) = signed.optional(0xa0)? {
        let mut reader = Reader::new(list.content);
        while !reader.is_empty() {
            let element = reader.any()?;
            if element.tag == der::SEQUENCE {
                certificates.push(element.raw.to_vec());
            }
        }
    }
    let mut tst = Reader::new(content).nested(der::SEQUENCE)?;
    tst.expect(der::INTEGER)?;
    tst.expect(der::OID)?;
    let mut imprint = tst.nested(der::SEQUENCE)?;
    let mut algorithm = imprint.nested(der::SEQUENCE)?;
    if der::oid_text(algorithm.expect(der::OID)?.content) != OID_SHA256 {
        return Err(TimestampError::Invalid("ringkasan token bukan SHA-256"));
    }
    let imprint = imprint.expect(der::OCTET_STRING)?.content.to_vec();
    tst.expect(der::INTEGER)?;
    let time = generalized_time(tst.expect(der::GENERALIZED_TIME)?.content).ok_or(TimestampError::Invalid("genTime"))?;
    let mut nonce = None;
    while !tst.is_empty() {
        let element = tst.any()?;
        if element.tag == der::INTEGER {
            nonce = Some(element.content.to_vec());
        }
    }
    Ok(TokenContents {
        imprint,
        nonce,
        time,
        certificates,
    })
}

/// `YYYYMMDDHHMMSS[.fff]Z`.
fn generalized_time(content: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(content).ok()?.strip_suffix('Z')?;
    let whole = text.split('.').next()?;
    chrono::NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

fn integer(content: &[u8]) -> Option<i64> {
    (content.len() <= 8).then(|| content.iter().fold(0i64, |acc, b| (acc << 8) | *b as i64))
}

/// A TSA reached over HTTP(S): `POST` of the request as `application/timestamp-query`,
/// with HTTP Basic credentials when the configured address carries them.
pub struct HttpAuthority {
    url: String,
    authorization: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAuthority").field("url", &self.url).finish_non_exhaustive()
    }
}

impl HttpAuthority {
    /// `http[s]://[user:password@]host/path`.
    pub fn new(address: &str, timeout: Duration) -> Result<Self, String> {
        let mut parsed = url::Url::parse(address).map_err(|e| format!("alamat otoritas stempel waktu tidak valid: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
            return Err("alamat otoritas stempel waktu harus http:// atau https:// dengan nama host".into());
        }
        let authorization = (!parsed.username().is_empty()).then(|| {
            use base64::Engine;
            let decode = |s: &str| {
                url::form_urlencoded::parse(s.as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .collect::<String>()
            };
            let pair = format!("{}:{}", decode(parsed.username()), decode(parsed.password().unwrap_or_default()));
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        });
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(HttpAuthority {
            url: parsed.to_string(),
            authorization,
            agent,
        })
    }

    /// The address without credentials, for logs and pages.
    pub fn address(&self) -> &str {
        &self.url
    }
}

impl Authority for HttpAuthority {
    fn stamp(&self, digest: &[u8; 32]) -> Result<Token, TimestampError> {
        let nonce: [u8; 8] = rand::random();
        let body = request(digest, &nonce);
        let mut call = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .header("Accept", "application/timestamp-reply");
        if let Some(authorization) = &self.authorization {
            call = call.header("Authorization", authorization);
        }
        let mut response = call.send(&body[..]).map_err(|e| TimestampError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(TimestampError::Status(status));
        }
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| TimestampError::Unreachable(e.to_string()))?;
        read_response(&answer, digest, &nonce)
    }
}

/// A CRL is rarely above a few hundred KiB; a larger answer is refused.
const MAX_CRL: u64 = 2 * 1024 * 1024;

/// Fetches a CRL from a certificate's distribution point (http or https only), bounded
/// in time and size. Its signature is for the validator to check.
pub fn fetch_crl(address: &str, timeout: Duration) -> Result<Vec<u8>, TimestampError> {
    let parsed = url::Url::parse(address).map_err(|e| TimestampError::Unreachable(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TimestampError::Unreachable(format!("alamat CRL {address} bukan http(s)")));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(2)
        .build()
        .into();
    let mut response = agent.get(address).call().map_err(|e| TimestampError::Unreachable(e.to_string()))?;
    if response.status().as_u16() != 200 {
        return Err(TimestampError::Status(response.status().as_u16()));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_CRL)
        .read_to_vec()
        .map_err(|e| TimestampError::Unreachable(e.to_string()))?;
    Reader::new(&body)
        .expect(der::SEQUENCE)
        .map_err(|_| TimestampError::Invalid("CRL bukan DER"))?;
    Ok(body)
}

/// SHA-256 of `bytes` as the array a request takes.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    parts.iter().for_each(|p| hasher.update(p));
    hasher.finalize().into()
}

/// A token with the structure of a real one but no TSA signature, for tests of the
/// PDF plumbing.
#[cfg(test)]
pub(crate) fn unsigned_token(imprint: &[u8], nonce: &[u8]) -> Vec<u8> {
    let tst = der::sequence(&[
        &der::small_integer(1),
        &der::oid("1.2.3.4"),
        &der::sequence(&[&der::sequence(&[&der::oid(OID_SHA256)]), &der::octet_string(imprint)]),
        &der::small_integer(42),
        &der::tlv(der::GENERALIZED_TIME, b"20261203101500.25Z"),
        &der::unsigned_integer(nonce),
    ]);
    let signed = der::sequence(&[
        &der::small_integer(3),
        &der::set_of(&[]),
        &der::sequence(&[&der::oid(OID_TST_INFO), &der::explicit(0, &der::octet_string(&tst))]),
        &der::set_of(&[]),
    ]);
    der::sequence(&[&der::oid(OID_SIGNED_DATA), &der::explicit(0, &signed)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response as a TSA would send it, around a token with the given imprint and nonce.
    fn response(status: u32, imprint: &[u8], nonce: &[u8]) -> Vec<u8> {
        let token = unsigned_token(imprint, nonce);
        der::sequence(&[&der::sequence(&[&der::small_integer(status)]), &token])
    }

    #[test]
    fn responses_are_accepted_only_for_our_digest_and_nonce() {
        let digest = [7u8; 32];
        let nonce = [0x80, 1, 2, 3, 4, 5, 6, 7];
        let request = request(&digest, &nonce);
        assert_eq!(Reader::new(&request).any().unwrap().raw.len(), request.len());

        let token = read_response(&response(0, &digest, &nonce), &digest, &nonce).unwrap();
        assert_eq!(token.time, 1_796_292_900);
        assert!(matches!(
            read_response(&response(0, &[8; 32], &nonce), &digest, &nonce),
            Err(TimestampError::Invalid(_))
        ));
        assert!(matches!(
            read_response(&response(0, &digest, &[1; 8]), &digest, &nonce),
            Err(TimestampError::Invalid(_))
        ));
        assert!(matches!(
            read_response(&response(2, &digest, &nonce), &digest, &nonce),
            Err(TimestampError::Refused(2))
        ));
        let whole = response(0, &digest, &nonce);
        for cut in [0, 5, whole.len() / 2, whole.len() - 1] {
            assert!(read_response(&whole[..cut], &digest, &nonce).is_err());
        }
    }

    #[test]
    fn addresses_hide_their_credentials() {
        let tsa = HttpAuthority::new("https://dinas:rahasia%21@tsa.example.go.id/tsr", Duration::from_secs(5)).unwrap();
        assert_eq!(tsa.address(), "https://tsa.example.go.id/tsr");
        assert!(!format!("{tsa:?}").contains("rahasia"));
        use base64::Engine;
        let expected = base64::engine::general_purpose::STANDARD.encode("dinas:rahasia!");
        assert_eq!(tsa.authorization.as_deref(), Some(format!("Basic {expected}").as_str()));
        assert!(HttpAuthority::new("ftp://tsa", Duration::from_secs(5)).is_err());
    }
}
