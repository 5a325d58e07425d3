//! Real local receivers for the notification tests, on 127.0.0.1: a webhook
//! (and SMS provider) HTTP server that drops a repeat of an idempotency key
//! as an integrator would, and an SMTP sink speaking enough SMTP for
//! `lettre` (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT); each also over
//! TLS with a certificate of a test CA ([`TestCa`]).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A test CA and a server certificate it issued for 127.0.0.1 and
/// localhost: the receivers serve it, the client trusts the CA's PEM.
pub struct TestCa {
    /// The CA's certificate, PEM.
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

impl TestCa {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "gridpatrol test CA");
        let ca =
            CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
        let key = KeyPair::generate().expect("key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("params")
            .signed_by(&key, &ca)
            .expect("leaf");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("server config");
        Self {
            ca_pem: ca.as_ref().pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

/// How the webhook receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200 to everything.
    Accept,
    /// 500 to everything.
    Fail,
    /// Records the first request and never answers it; 200 afterwards.
    HangFirst,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct Log {
    requests: Vec<Received>,
    /// Keys acted on: a repeat of one is acknowledged and ignored.
    processed: BTreeSet<String>,
}

/// The webhook / SMS receiver.
#[derive(Clone)]
pub struct HttpReceiver {
    pub url: String,
    log: Arc<Mutex<Log>>,
}

#[derive(Clone)]
struct St {
    mode: Mode,
    log: Arc<Mutex<Log>>,
}

async fn receive(
    State(st): State<St>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let first = {
        let mut log = st.log.lock().expect("log");
        log.requests.push(Received {
            path: uri.path().to_owned(),
            headers: headers.clone(),
            body,
        });
        log.requests.len() == 1
    };
    match st.mode {
        Mode::Fail => return (StatusCode::INTERNAL_SERVER_ERROR, "down"),
        Mode::HangFirst if first => std::future::pending::<()>().await,
        _ => {}
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    st.log.lock().expect("log").processed.insert(key);
    (StatusCode::OK, r#"{"Code":"OK"}"#)
}

impl HttpReceiver {
    /// The receiver's routes and their log.
    fn app(mode: Mode) -> (Router, Arc<Mutex<Log>>) {
        let log = Arc::new(Mutex::new(Log::default()));
        let app = Router::new()
            .route("/hook", post(receive))
            .route("/sms", post(receive))
            .with_state(St {
                mode,
                log: log.clone(),
            });
        (app, log)
    }

    pub async fn start(mode: Mode) -> Self {
        let (app, log) = Self::app(mode);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver");
        });
        Self {
            url: format!("http://{addr}"),
            log,
        }
    }

    /// The same receiver over TLS only (`https://127.0.0.1:PORT`).
    pub async fn start_tls(mode: Mode, acceptor: TlsAcceptor) -> Self {
        let (app, log) = Self::app(mode);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    let svc = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Self {
            url: format!("https://{addr}"),
            log,
        }
    }

    pub fn requests(&self, path: &str) -> Vec<Received> {
        let log = self.log.lock().expect("log");
        log.requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The keys acted on (each once).
    pub fn processed(&self) -> BTreeSet<String> {
        self.log.lock().expect("log").processed.clone()
    }
}

/// One message an SMTP client handed over.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// The SMTP sink.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::listen(None).await
    }

    /// The same sink over TLS from the first byte (SMTPS).
    pub async fn start_tls(acceptor: TlsAcceptor) -> Self {
        Self::listen(Some(acceptor)).await
    }

    async fn listen(tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = mails.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (m, tls) = (m.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = match tls {
                        None => session(sock, m).await,
                        Some(acceptor) => match acceptor.accept(sock).await {
                            Ok(stream) => session(stream, m).await,
                            Err(_) => Ok(()),
                        },
                    };
                });
            }
        });
        Self { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    sock: S,
    mails: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (r, mut w) = tokio::io::split(sock);
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            w.write_all(b"250 sink.test\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().to_owned();
            to.clear();
            w.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().to_owned());
            w.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            w.write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(&line);
            }
            mails.lock().expect("mails").push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            w.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            w.write_all(b"250 OK\r\n").await?;
        } else {
            w.write_all(b"502 not implemented\r\n").await?;
        }
    }
}

/// rustls on *ring* (no C toolchain beyond ring's own, unlike aws-lc-rs);
/// its lack of post-quantum key exchange is why rustls marks it deprecated.
#[expect(deprecated, reason = "ring is kept to spare the build aws-lc-rs")]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}
