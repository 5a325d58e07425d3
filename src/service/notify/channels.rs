//! The delivery channels behind one trait, [`Channel`]: signed webhooks
//! (POST JSON, HMAC-SHA256 over `timestamp.body`), e-mail over SMTP
//! (`lettre`) and SMS through an HTTP provider in the Aliyun/Tencent style
//! (behind [`SmsProvider`]). Every attempt of one delivery carries the same
//! idempotency key, so a receiver that saw it already drops the repeat.
//!
//! HTTP goes out over HTTP/1.1 with the hyper that axum brings, and over
//! TLS (rustls on ring) for `https://` endpoints such as a WeCom or DingTalk
//! bot or a provider's SMS API; e-mail goes plain, by STARTTLS or by TLS
//! ([`SmtpTls`]). [`Tls`] trusts the public web's roots and, when given, a
//! private CA's certificates (a town's internal platform).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, Uri, header};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use hyper_util::rt::TokioIo;
use sha2::Sha256;

use crate::store::notify::{ChannelKind, Delivery};

/// How long one attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// The header carrying the signature: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-gridpatrol-signature";
/// The header carrying the Unix time (seconds) the signature covers.
pub const TIMESTAMP_HEADER: &str = "x-gridpatrol-timestamp";
/// The header carrying the delivery's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Why an attempt failed; the delivery is tried again later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failed(pub String);

fn failed(what: &str, e: impl std::fmt::Display) -> Failed {
    Failed(format!("{what}: {e}"))
}

/// A way to reach a person (or a platform).
#[async_trait]
pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;
    /// Where this channel sends a user's deliveries (`None`: not to them).
    fn address_for(&self, email: Option<&str>, phone: Option<&str>) -> Option<String>;
    /// One attempt of a delivery at `now`.
    async fn deliver(&self, d: &Delivery, now: DateTime<Utc>) -> Result<(), Failed>;
}

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
#[must_use]
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whom the TLS of the channels trusts: the public web's roots (Mozilla's,
/// from `webpki-roots`) and, when given, the certificates of a private CA.
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
    /// The private CA's certificates as PEM, for the SMTP channel.
    private_ca: Option<Arc<Vec<u8>>>,
}

impl Tls {
    /// The public roots and the certificates of `private_ca_pem` (a PEM
    /// file's bytes: one certificate or more).
    pub fn new(private_ca_pem: Option<&[u8]>) -> Result<Self, Failed> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(pem) = private_ca_pem {
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                roots
                    .add(cert.map_err(|e| failed("CA file", e))?)
                    .map_err(|e| failed("CA certificate", e))?;
                n += 1;
            }
            if n == 0 {
                return Err(Failed("CA file: no certificate in it".to_owned()));
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| failed("TLS", e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            private_ca: private_ca_pem.map(|p| Arc::new(p.to_vec())),
        })
    }
}

/// Sends one request on a connection and reads the answer.
async fn exchange<I>(io: I, req: Request<Body>) -> Result<(u16, Vec<u8>), Failed>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| failed("handshake", e))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| failed("send", e))?;
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(Body::new(res.into_body()), 64 * 1024)
        .await
        .map_err(|e| failed("answer", e))?;
    Ok((status, bytes.to_vec()))
}

/// One HTTP/1.1 POST of a JSON body, over TLS for `https://`; the status
/// and the answer's body.
pub async fn post_json(
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    tls: &Tls,
) -> Result<(u16, Vec<u8>), Failed> {
    let uri: Uri = url.parse().map_err(|e| failed("URL", e))?;
    let secure = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(Failed(format!(
                "{url}: only http:// and https:// are spoken"
            )));
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| Failed(format!("{url}: no host")))?;
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let authority = uri
        .authority()
        .map_or_else(|| host.to_owned(), ToString::to_string);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut req = Request::post(path)
        .header(header::HOST, authority)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::USER_AGENT, "gridpatrol-notify/1");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(Body::from(body))
        .map_err(|e| failed("request", e))?;
    // an IPv6 literal comes bracketed in a URL, not in a server name
    let name = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let attempt = async {
        let stream = tokio::net::TcpStream::connect((name.as_str(), port))
            .await
            .map_err(|e| failed("connect", e))?;
        if secure {
            let server = rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|e| failed("server name", e))?;
            let stream = tokio_rustls::TlsConnector::from(tls.config.clone())
                .connect(server, stream)
                .await
                .map_err(|e| failed("TLS", e))?;
            exchange(TokioIo::new(stream), req).await
        } else {
            exchange(TokioIo::new(stream), req).await
        }
    };
    tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
        .await
        .map_err(|_| Failed(format!("{url}: no answer within {ATTEMPT_TIMEOUT:?}")))?
}

/// A signed webhook (a town's 城运中心 platform, a WeCom or DingTalk relay).
pub struct Webhook {
    pub url: String,
    pub secret: String,
    pub tls: Tls,
}

#[async_trait]
impl Channel for Webhook {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    fn address_for(&self, _: Option<&str>, _: Option<&str>) -> Option<String> {
        Some(self.url.clone())
    }

    async fn deliver(&self, d: &Delivery, now: DateTime<Utc>) -> Result<(), Failed> {
        let body = d.payload.to_string().into_bytes();
        let ts = now.timestamp();
        let headers = [
            (TIMESTAMP_HEADER, ts.to_string()),
            (IDEMPOTENCY_HEADER, d.idem_key.clone()),
            (
                SIGNATURE_HEADER,
                signature(self.secret.as_bytes(), ts, &body),
            ),
        ];
        let (status, answer) = post_json(&d.address, &headers, body, &self.tls).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(Failed(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&answer)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )))
        }
    }
}

/// How the SMTP channel protects the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpTls {
    /// Plain SMTP (a relay inside the network, port 25).
    None,
    /// STARTTLS, required (port 587).
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// E-mail over SMTP.
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub from: String,
    /// User and password, when the server asks for them.
    pub credentials: Option<(String, String)>,
    pub security: SmtpTls,
    pub tls: Tls,
}

impl Smtp {
    fn tls_parameters(&self) -> Result<lettre::transport::smtp::client::TlsParameters, Failed> {
        use lettre::transport::smtp::client::{Certificate, TlsParameters};
        let mut b = TlsParameters::builder(self.host.clone());
        if let Some(pem) = &self.tls.private_ca {
            b = b.add_root_certificate(
                Certificate::from_pem(pem).map_err(|e| failed("CA file", e))?,
            );
        }
        b.build_rustls().map_err(|e| failed("TLS", e))
    }
}

#[async_trait]
impl Channel for Smtp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn address_for(&self, email: Option<&str>, _: Option<&str>) -> Option<String> {
        email.map(str::to_owned)
    }

    async fn deliver(&self, d: &Delivery, _now: DateTime<Utc>) -> Result<(), Failed> {
        use lettre::message::header::ContentType;
        use lettre::transport::smtp::client::Tls as Mode;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let p = &d.payload;
        let text = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
        let body = format!(
            "{}\n\n{}\n\n期限 (due): {}\n链接 (link): {}\n\n—— gridpatrol 巡查督办 (Beijing time {})\n",
            text("body_zh"),
            text("body_en"),
            text("due_on"),
            text("link"),
            text("created_at_beijing"),
        );
        let msg = Message::builder()
            .from(self.from.parse().map_err(|e| failed("from", e))?)
            .to(d.address.parse().map_err(|e| failed("to", e))?)
            .subject(format!("{} / {}", text("title_zh"), text("title_en")))
            // the receiver's dedupe key: every attempt has the same Message-ID
            .message_id(Some(format!("<{}@gridpatrol>", d.idem_key)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| failed("message", e))?;
        let mode = match self.security {
            SmtpTls::None => Mode::None,
            SmtpTls::Starttls => Mode::Required(self.tls_parameters()?),
            SmtpTls::Tls => Mode::Wrapper(self.tls_parameters()?),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(mode)
            .timeout(Some(ATTEMPT_TIMEOUT));
        if let Some((u, pw)) = &self.credentials {
            b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
                u.clone(),
                pw.clone(),
            ));
        }
        b.build()
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| failed("SMTP", e))
    }
}

/// An SMS provider.
#[async_trait]
pub trait SmsProvider: Send + Sync {
    /// Sends one text to one number; `key` is the delivery's idempotency key.
    async fn send(&self, phone: &str, text: &str, key: &str) -> Result<(), Failed>;
}

/// An HTTP SMS gateway in the Aliyun/Tencent style: POST JSON with the
/// number, the signature name, the template and its parameters; success is
/// a 2xx whose JSON `Code` is `OK` (or absent).
pub struct HttpSms {
    pub url: String,
    pub key: String,
    pub sign_name: String,
    pub template: String,
    pub tls: Tls,
}

#[async_trait]
impl SmsProvider for HttpSms {
    async fn send(&self, phone: &str, text: &str, key: &str) -> Result<(), Failed> {
        let body = serde_json::json!({
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": self.template,
            "TemplateParam": serde_json::json!({ "content": text }).to_string(),
            "OutId": key,
        });
        let headers = [
            ("authorization", format!("Bearer {}", self.key)),
            (IDEMPOTENCY_HEADER, key.to_owned()),
        ];
        let (status, answer) = post_json(
            &self.url,
            &headers,
            body.to_string().into_bytes(),
            &self.tls,
        )
        .await?;
        let code = serde_json::from_slice::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v.get("Code").and_then(|c| c.as_str().map(str::to_owned)));
        match ((200..300).contains(&status), code.as_deref()) {
            (true, None | Some("OK")) => Ok(()),
            (_, code) => Err(Failed(format!(
                "HTTP {status}, provider code {}",
                code.unwrap_or("-")
            ))),
        }
    }
}

/// SMS through a provider.
pub struct Sms(pub Box<dyn SmsProvider>);

#[async_trait]
impl Channel for Sms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn address_for(&self, _: Option<&str>, phone: Option<&str>) -> Option<String> {
        phone.map(str::to_owned)
    }

    async fn deliver(&self, d: &Delivery, _now: DateTime<Utc>) -> Result<(), Failed> {
        let p = &d.payload;
        let text = format!(
            "【巡查督办】{}（期限{}）",
            p["title_zh"].as_str().unwrap_or_default(),
            p["due_on"].as_str().unwrap_or_default()
        );
        self.0.send(&d.address, &text, &d.idem_key).await
    }
}

/// rustls on *ring* (no C toolchain beyond ring's own, unlike aws-lc-rs);
/// its lack of post-quantum key exchange is why rustls marks it deprecated.
#[expect(deprecated, reason = "ring is kept to spare the build aws-lc-rs")]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}
