//! Rendering a notification: minijinja templates, the HTML one auto-escaped (a customer's words
//! and a title are data, never markup), personalised with the customer's name and what they
//! asked in their own words.
//!
//! [`shipped`] turns a planned notification ([`rapport_core::notify::Planned`]) into an outbox
//! message: an e-mail (subject, text, HTML) or a webhook payload (JSON with the same facts and
//! the text body). Campaigns can bring their own templates through [`Templates::new`].

use minijinja::{AutoEscape, Environment, Value, context};
use rapport_core::notify::{Planned, Route};
use rapport_store::{NewMessage, OutboxChannel};
use serde::Serialize;

/// What shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shipped {
    /// What the message is about, the dedupe keys' prefix: `idea:12`.
    pub topic: String,
    pub title: String,
    pub description: Option<String>,
    /// Where to read more.
    pub url: Option<String>,
}

pub const SUBJECT: &str = "You asked, we built it: {{ shipped.title }}";

pub const TEXT: &str = "\
Hello {{ name or \"there\" }},
{% if asked %}
You asked us for this:
{% for a in asked %}
  \"{{ a }}\"
{% endfor %}{% endif %}
It has shipped: {{ shipped.title }}
{% if shipped.description %}
{{ shipped.description }}
{% endif %}{% if shipped.url %}
Read more: {{ shipped.url }}
{% endif %}
Thank you for telling us.
";

pub const HTML: &str = "\
<p>Hello {{ name or \"there\" }},</p>
{% if asked %}<p>You asked us for this:</p>
{% for a in asked %}<blockquote>{{ a }}</blockquote>
{% endfor %}{% endif %}<p>It has shipped: <strong>{{ shipped.title }}</strong></p>
{% if shipped.description %}<p>{{ shipped.description }}</p>
{% endif %}{% if shipped.url %}<p><a href=\"{{ shipped.url }}\">Read more</a></p>
{% endif %}<p>Thank you for telling us.</p>
";

/// A set of subject, text and HTML templates, checked when loaded.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Compiles the templates; an error names the one that does not parse.
    pub fn new(subject: &str, text: &str, html: &str) -> Result<Templates, String> {
        let mut env = Environment::new();
        // Escaping by name: only the HTML body is markup.
        env.set_auto_escape_callback(|name| match name {
            "body.html" => AutoEscape::Html,
            _ => AutoEscape::None,
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        for (name, src) in [("subject", subject), ("body.txt", text), ("body.html", html)] {
            env.add_template_owned(name.to_string(), src.to_string())
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(Templates { env })
    }

    /// The built-in "what you asked for has shipped" templates.
    pub fn shipped() -> Templates {
        Templates::new(SUBJECT, TEXT, HTML).expect("the built-in templates parse")
    }

    /// Whether any of the templates reads the variable `name` (so costly context, such as
    /// recommendations, is only computed when a template uses it).
    pub fn uses(&self, name: &str) -> bool {
        self.env.templates().any(|(_, t)| t.undeclared_variables(false).contains(name))
    }

    /// Renders (subject, text, HTML); the subject on one line.
    pub fn render(&self, ctx: &Value) -> Result<(String, String, String), String> {
        let one = |name: &str| {
            let t = self.env.get_template(name).map_err(|e| e.to_string())?;
            t.render(ctx).map_err(|e| format!("template {name}: {e}"))
        };
        let subject = one("subject")?.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok((subject, one("body.txt")?, one("body.html")?))
    }
}

/// The outbox message that tells `p` that `s` has shipped, on `p`'s route.
pub fn shipped(t: &Templates, p: &Planned, s: &Shipped) -> Result<NewMessage, String> {
    let ctx = context! { name => p.name, asked => p.asked, shipped => s };
    let (subject, text, html) = t.render(&ctx)?;
    let (channel, recipient, source, body, html) = match &p.route {
        Route::Email { address } => {
            (OutboxChannel::Email, address.as_str().to_string(), None, text, Some(html))
        }
        Route::Webhook { source, url } => {
            let payload = serde_json::json!({
                "event": "shipped",
                "topic": s.topic,
                "title": s.title,
                "description": s.description,
                "url": s.url,
                "customer": { "id": p.customer, "name": p.name },
                "asked": p.asked,
                "feedback": p.feedback,
                "text": text,
            });
            (OutboxChannel::Webhook, url.clone(), Some(source.clone()), payload.to_string(), None)
        }
    };
    Ok(NewMessage {
        dedupe_key: p.dedupe_key.clone(),
        customer: p.customer.clone(),
        channel,
        recipient,
        source,
        subject,
        body,
        html,
        topic: s.topic.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::{Email, ExternalId};

    fn planned(route: Route) -> Planned {
        Planned {
            dedupe_key: "idea:7:customer:c1".into(),
            customer: ExternalId::parse("c1").unwrap(),
            name: Some("Ann <b>".into()),
            route,
            asked: vec!["Please <script>alert(1)</script> & dark mode".into()],
            feedback: vec![ExternalId::parse("typeform:9").unwrap()],
        }
    }

    fn dark_mode() -> Shipped {
        Shipped {
            topic: "idea:7".into(),
            title: "Dark mode".into(),
            description: Some("Every page, \"night\" friendly.".into()),
            url: None,
        }
    }

    #[test]
    fn emails_are_personalised_and_the_html_is_escaped() {
        let route = Route::Email { address: Email::parse("ann@example.com").unwrap() };
        let m = shipped(&Templates::shipped(), &planned(route), &dark_mode()).unwrap();
        assert_eq!(m.subject, "You asked, we built it: Dark mode");
        assert_eq!((m.channel, m.recipient.as_str()), (OutboxChannel::Email, "ann@example.com"));
        assert!(m.body.starts_with("Hello Ann <b>,\n"), "{}", m.body);
        assert!(m.body.contains("  \"Please <script>alert(1)</script> & dark mode\"\n"));
        assert!(m.body.contains("It has shipped: Dark mode\n"));
        assert!(!m.body.contains("Read more"), "no URL, no link");
        let html = m.html.unwrap();
        assert!(html.contains("Hello Ann &lt;b&gt;,"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; dark mode"),
            "{html}"
        );
        assert!(html.contains("&quot;night&quot;"), "{html}");
        assert!(!html.contains("<script>"));
        assert_eq!((m.dedupe_key.as_str(), m.topic.as_str()), ("idea:7:customer:c1", "idea:7"));
    }

    #[test]
    fn webhooks_carry_the_facts_as_json() {
        let route = Route::Webhook { source: "typeform".into(), url: "http://h.example/n".into() };
        let mut p = planned(route);
        p.name = None;
        let m = shipped(&Templates::shipped(), &p, &dark_mode()).unwrap();
        assert_eq!(m.channel, OutboxChannel::Webhook);
        assert_eq!(m.source.as_deref(), Some("typeform"));
        assert_eq!(m.html, None);
        let v: serde_json::Value = serde_json::from_str(&m.body).unwrap();
        assert_eq!(v["event"], "shipped");
        assert_eq!(v["customer"]["id"], "c1");
        assert_eq!(v["feedback"][0], "typeform:9");
        assert!(v["text"].as_str().unwrap().starts_with("Hello there,"));
    }

    #[test]
    fn a_template_that_does_not_parse_is_named() {
        let e = Templates::new("ok", "{% if %}", "ok").unwrap_err();
        assert!(e.starts_with("template body.txt:"), "{e}");
    }
}
