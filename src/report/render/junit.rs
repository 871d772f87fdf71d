//! JUnit XML, for CI systems that show test results.
//!
//! One `<testsuite>` per target and one `<testcase>` per check (name: the
//! check id, classname: the target id). `fail` and `warn` are `<failure>`
//! (type says which), `error` is `<error>`, `unknown` and `n/a` are
//! `<skipped>` with the reason, and a waived finding is `<skipped>` with the
//! waiver — it does not fail the build, as it does not fail `--fail-on`.
//! Advice (an advisory check's `warn`, which does not lower its item) is
//! not a failure either: a passing testcase whose `<system-out>` starts
//! `advice:` with the fix, counted in the suite's `advice` property.
//! A target listed but not audited (another cloud's database, in Terraform)
//! is one `<testcase name="audit">` `<skipped>` with the reason.
//! A passing testcase states the deciding fact in `<system-out>`. A target
//! that could not be audited is one `<testcase name="audit">` with `<error>`.

use crate::checks::model::Status;
use crate::report::{Finding, Report, TargetReport};
use chrono::SecondsFormat;
use std::fmt::Write;

/// Escapes text for XML content; drops characters XML 1.0 forbids.
pub fn escape(text: &str) -> String {
    escape_with(text, false)
}

/// Escapes text for an XML attribute value: line breaks and tabs as
/// character references, so parsers do not normalize them to spaces.
pub fn attr(text: &str) -> String {
    escape_with(text, true)
}

fn escape_with(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if attribute => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

enum Outcome {
    Passed,
    /// An advisory `warn`: shown, not a failure (it did not lower the item).
    Advice,
    Failure,
    Error,
    Skipped,
}

fn outcome(finding: &Finding) -> Outcome {
    match finding.status {
        _ if finding.waiver.is_some() => Outcome::Skipped,
        Status::Warn if finding.advisory => Outcome::Advice,
        Status::Pass => Outcome::Passed,
        Status::Fail | Status::Warn => Outcome::Failure,
        Status::Error => Outcome::Error,
        Status::Unknown | Status::NotApplicable => Outcome::Skipped,
    }
}

fn counts(target: &TargetReport) -> Counts {
    if target.error.is_some() {
        return Counts {
            tests: 1,
            errors: 1,
            ..Counts::default()
        };
    }
    if target.not_audited.is_some() {
        return Counts {
            tests: 1,
            skipped: 1,
            ..Counts::default()
        };
    }
    let mut counts = Counts {
        tests: target.findings.len(),
        ..Counts::default()
    };
    for finding in &target.findings {
        match outcome(finding) {
            Outcome::Passed | Outcome::Advice => {}
            Outcome::Failure => counts.failures += 1,
            Outcome::Error => counts.errors += 1,
            Outcome::Skipped => counts.skipped += 1,
        }
    }
    counts
}

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let timestamp = report.started_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let seconds = (report.finished_at - report.started_at)
        .num_milliseconds()
        .max(0) as f64
        / 1000.0;
    let mut total = Counts::default();
    let per_target: Vec<Counts> = report.targets.iter().map(counts).collect();
    for c in &per_target {
        total.tests += c.tests;
        total.failures += c.failures;
        total.errors += c.errors;
        total.skipped += c.skipped;
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sqlready\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{seconds:.3}\" timestamp=\"{timestamp}\">",
        total.tests, total.failures, total.errors, total.skipped
    );
    for (target, c) in report.targets.iter().zip(per_target) {
        let id = attr(&target.id);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{id}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\" timestamp=\"{timestamp}\">",
            c.tests, c.failures, c.errors, c.skipped
        );
        let mut properties = Vec::new();
        properties.push(("kind", target.kind.clone()));
        for (name, value) in [
            ("role", &target.role),
            ("engine", &target.engine),
            ("version", &target.version),
        ] {
            if let Some(value) = value {
                properties.push((name, value.clone()));
            }
        }
        if let Some(score) = target.score {
            properties.push(("score", score.to_string()));
        }
        // Never a score without its coverage: the same two numbers as every format.
        properties.push(("items_judged", target.coverage.judged.to_string()));
        properties.push(("items_applicable", target.coverage.applicable.to_string()));
        properties.push(("coverage", target.coverage.beside(target.score)));
        let advice = target
            .findings
            .iter()
            .filter(|f| matches!(outcome(f), Outcome::Advice))
            .count();
        if advice > 0 {
            properties.push(("advice", advice.to_string()));
        }
        if let Some(why) = &target.not_audited {
            properties.push(("not_audited", why.clone()));
        }
        let _ = writeln!(out, "    <properties>");
        for (name, value) in properties {
            let _ = writeln!(
                out,
                "      <property name=\"{name}\" value=\"{}\"/>",
                attr(&value)
            );
        }
        let _ = writeln!(out, "    </properties>");
        if let Some(error) = &target.error {
            let _ = writeln!(
                out,
                "    <testcase name=\"audit\" classname=\"{id}\" time=\"0\">"
            );
            let _ = writeln!(
                out,
                "      <error type=\"error\" message=\"{}\"/>",
                attr(error)
            );
            let _ = writeln!(out, "    </testcase>");
        }
        if let Some(why) = &target.not_audited {
            let _ = writeln!(
                out,
                "    <testcase name=\"audit\" classname=\"{id}\" time=\"0\">"
            );
            let _ = writeln!(
                out,
                "      <skipped message=\"{}\"/>",
                attr(&format!("not audited: {why}"))
            );
            let _ = writeln!(out, "    </testcase>");
        }
        for finding in &target.findings {
            testcase(&mut out, &id, finding);
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, target: &str, finding: &Finding) {
    let _ = writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{target}\" time=\"0\">",
        attr(&finding.check)
    );
    let headline = format!(
        "{} [{}] {}: {}",
        finding.status, finding.severity, finding.title, finding.detail
    );
    match outcome(finding) {
        Outcome::Passed => {
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&headline));
        }
        Outcome::Advice => {
            let mut body = format!("advice (does not lower the item): {headline}");
            if let Some(fix) = &finding.remediation {
                body.push_str("\n\nhow to follow it:\n");
                body.push_str(fix);
            }
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&body));
        }
        Outcome::Failure => {
            let mut body = headline.clone();
            if let Some(fix) = &finding.remediation {
                body.push_str("\n\nhow to fix:\n");
                body.push_str(fix);
            }
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                finding.status,
                attr(&format!("{}: {}", finding.title, finding.detail)),
                escape(&body)
            );
        }
        Outcome::Error => {
            let _ = writeln!(
                out,
                "      <error type=\"error\" message=\"{}\">{}</error>",
                attr(&finding.detail),
                escape(&finding.resolve.join("\n"))
            );
        }
        Outcome::Skipped => {
            let message = match &finding.waiver {
                Some(waiver) => format!(
                    "waived ({} until {}): {} — {} {}",
                    waiver.owner, waiver.expires, waiver.reason, finding.status, finding.detail
                ),
                None => format!("{}: {}", finding.status, finding.detail),
            };
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", attr(&message));
        }
    }
    let _ = writeln!(out, "    </testcase>");
}
