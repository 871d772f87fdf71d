//! Audit plugins.

use super::*;

pub(super) fn audit_facts(sink: &mut FactSink<'_>, answer: Option<&Answer>) {
    match answer {
        Some(Answer::Rows(rows)) => {
            let plugins: Vec<Json> = rows
                .iter()
                .map(
                    |r| json!({"name": text(r, "PLUGIN_NAME"), "status": text(r, "PLUGIN_STATUS")}),
                )
                .collect();
            sink.known(
                "mysql.audit_plugins",
                "information_schema.PLUGINS WHERE PLUGIN_TYPE = 'AUDIT'",
                plugins,
            );
        }
        other => sink.unknown(
            "mysql.audit_plugins",
            failure(other, "information_schema.PLUGINS"),
            None,
        ),
    }
}
