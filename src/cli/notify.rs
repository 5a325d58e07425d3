//! Notification settings of `serve` (flags or environment, like the rest
//! of the server's configuration) and `gridpatrol notify test`, which sends
//! one message through every configured channel and prints one line each.

use std::time::Duration as StdDuration;

use clap::{Args, Subcommand};

use crate::notify::Rules;
use crate::service::notify::channels::{Channel, HttpSms, Sms, Smtp, SmtpTls, Tls, Webhook};
use crate::service::notify::{Settings, SystemClock, idem_key};
use crate::store::notify::{ChannelKind, Delivery};

/// The channels reminders go out on, and the chain's days.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// A webhook receiving every item as signed JSON (`http://` or
    /// `https://`, e.g. a WeCom or DingTalk bot's relay).
    #[arg(long, env = "GRIDPATROL_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// The shared secret of the webhook's HMAC-SHA256 signature.
    #[arg(long, env = "GRIDPATROL_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// The SMTP relay for e-mail (e.g. the town's mail server).
    #[arg(long, env = "GRIDPATROL_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// The relay's port (default: 25 plain, 587 STARTTLS, 465 TLS).
    #[arg(long, env = "GRIDPATROL_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// How the SMTP connection is protected.
    #[arg(long, env = "GRIDPATROL_SMTP_TLS", value_enum, default_value = "none")]
    pub smtp_tls: SmtpTls,
    /// The sender, e.g. `巡查督办 <notify@songjiang.example.cn>`.
    #[arg(
        long,
        env = "GRIDPATROL_SMTP_FROM",
        default_value = "gridpatrol <gridpatrol@localhost>"
    )]
    pub smtp_from: String,
    #[arg(long, env = "GRIDPATROL_SMTP_USER")]
    pub smtp_user: Option<String>,
    #[arg(long, env = "GRIDPATROL_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The SMS provider's HTTP endpoint (Aliyun/Tencent-style JSON).
    #[arg(long, env = "GRIDPATROL_SMS_URL")]
    pub sms_url: Option<String>,
    /// The SMS provider's API key (sent as a bearer token).
    #[arg(long, env = "GRIDPATROL_SMS_KEY", hide_env_values = true)]
    pub sms_key: Option<String>,
    /// The SMS signature name (签名).
    #[arg(long, env = "GRIDPATROL_SMS_SIGN", default_value = "巡查督办")]
    pub sms_sign_name: String,
    /// The SMS template code (模板).
    #[arg(
        long,
        env = "GRIDPATROL_SMS_TEMPLATE",
        default_value = "SMS_GRIDPATROL_REMINDER"
    )]
    pub sms_template: String,
    /// Days after an item falls due before the town lead is told (督办).
    #[arg(long, env = "GRIDPATROL_ESCALATE_TOWN_DAYS")]
    pub escalate_town_days: Option<i64>,
    /// Days after an item falls due before the district is told.
    #[arg(long, env = "GRIDPATROL_ESCALATE_DISTRICT_DAYS")]
    pub escalate_district_days: Option<i64>,
    /// How often the late facts are computed without a write, in seconds.
    #[arg(long, env = "GRIDPATROL_NOTIFY_TICK_SECS", default_value_t = 300)]
    pub notify_tick_secs: u64,
    /// A PEM file of private CA certificates trusted, beside the public
    /// web's roots, for https:// webhooks and SMS APIs and SMTP over TLS
    /// (a town's internal platform).
    #[arg(long, env = "GRIDPATROL_NOTIFY_CA_FILE")]
    pub notify_ca_file: Option<std::path::PathBuf>,
    /// The service's public URL, for links in messages.
    #[arg(long, env = "GRIDPATROL_PUBLIC_URL", default_value = "")]
    pub public_url: String,
}

impl NotifyArgs {
    /// The configured channels.
    pub fn channels(&self) -> anyhow::Result<Vec<Box<dyn Channel>>> {
        let mut out: Vec<Box<dyn Channel>> = Vec::new();
        let pem = match &self.notify_ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("--notify-ca-file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let tls = Tls::new(pem.as_deref()).map_err(|e| match &self.notify_ca_file {
            Some(path) => anyhow::anyhow!("--notify-ca-file {}: {e}", path.display()),
            None => anyhow::anyhow!("{e}"),
        })?;
        if let Some(url) = &self.webhook_url {
            let Some(secret) = self.webhook_secret.clone().filter(|s| s.len() >= 16) else {
                anyhow::bail!(
                    "--webhook-url needs --webhook-secret (GRIDPATROL_WEBHOOK_SECRET) of 16 characters or more"
                );
            };
            out.push(Box::new(Webhook {
                url: url.clone(),
                secret,
                tls: tls.clone(),
            }));
        }
        if let Some(host) = &self.smtp_host {
            out.push(Box::new(Smtp {
                host: host.clone(),
                port: self.smtp_port.unwrap_or(match self.smtp_tls {
                    SmtpTls::None => 25,
                    SmtpTls::Starttls => 587,
                    SmtpTls::Tls => 465,
                }),
                from: self.smtp_from.clone(),
                credentials: self.smtp_user.clone().zip(self.smtp_password.clone()),
                security: self.smtp_tls,
                tls: tls.clone(),
            }));
        }
        if let Some(url) = &self.sms_url {
            let Some(key) = self.sms_key.clone() else {
                anyhow::bail!("--sms-url needs --sms-key (GRIDPATROL_SMS_KEY)");
            };
            out.push(Box::new(Sms(Box::new(HttpSms {
                url: url.clone(),
                key,
                sign_name: self.sms_sign_name.clone(),
                template: self.sms_template.clone(),
                tls,
            }))));
        }
        Ok(out)
    }

    /// The notifier's settings.
    #[must_use]
    pub fn settings(&self) -> Settings {
        let d = Settings::default();
        let rules = match (self.escalate_town_days, self.escalate_district_days) {
            (None, None) => Rules::default(),
            (t, dist) => {
                let t = t.unwrap_or(3);
                Rules::with_days(t, dist.unwrap_or(t + 4))
            }
        };
        Settings {
            rules,
            tick: StdDuration::from_secs(self.notify_tick_secs.max(5)),
            base_url: self.public_url.clone(),
            ..d
        }
    }
}

/// `gridpatrol notify ...`.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send one test message through every configured channel.
    Test {
        /// The address the e-mail channel sends to.
        #[arg(long)]
        email: Option<String>,
        /// The number the SMS channel sends to.
        #[arg(long)]
        phone: Option<String>,
        #[command(flatten)]
        notify: NotifyArgs,
    },
}

/// Runs `notify test`.
pub async fn notify(cmd: NotifyCommand) -> anyhow::Result<()> {
    let NotifyCommand::Test {
        email,
        phone,
        notify,
    } = cmd;
    let channels = notify.channels()?;
    if channels.is_empty() {
        super::write_stdout(
            "没有配置通知渠道 (no channel configured): set GRIDPATROL_WEBHOOK_URL, GRIDPATROL_SMTP_HOST or GRIDPATROL_SMS_URL",
        );
        return Ok(());
    }
    let now = crate::service::notify::Clock::now(&SystemClock);
    let mut failures = 0;
    for c in &channels {
        let kind = c.kind();
        let Some(address) = c.address_for(email.as_deref(), phone.as_deref()) else {
            super::write_stdout(&format!(
                "{:<8} 跳过 skipped: give --{} to send a test",
                kind.as_str(),
                if kind == ChannelKind::Email {
                    "email"
                } else {
                    "phone"
                }
            ));
            continue;
        };
        let d = Delivery {
            id: 0,
            item_id: 0,
            recipient: "test".into(),
            channel: kind,
            address: address.clone(),
            idem_key: idem_key(
                &format!("test:{}", now.timestamp_millis()),
                crate::notify::Level::Owner,
                "test",
                kind.as_str(),
            ),
            payload: serde_json::json!({
                "event": "test",
                "event_zh": "测试消息",
                "title_zh": "gridpatrol 通知测试",
                "title_en": "gridpatrol notification test",
                "body_zh": "这是一条测试消息，说明该通知渠道配置正确。",
                "body_en": "A test message: this channel is configured correctly.",
                "due_on": crate::time::local_day(now).to_string(),
                "link": notify.public_url,
                "created_at": crate::time::iso(now),
                "created_at_beijing": crate::time::beijing_text(now),
            }),
            state: "pending".into(),
            attempts: 0,
            next_at: now,
            last_error: None,
            created_at: now,
            delivered_at: None,
        };
        match c.deliver(&d, now).await {
            Ok(()) => super::write_stdout(&format!("{:<8} 成功 ok      {address}", kind.as_str())),
            Err(e) => {
                failures += 1;
                super::write_stdout(&format!("{:<8} 失败 failed  {address}: {e}", kind.as_str()));
            }
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} channel(s) failed");
    }
    Ok(())
}
