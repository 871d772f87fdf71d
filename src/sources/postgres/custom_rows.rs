//! Rows of a custom check query as JSON, decoded by column type.
//!
//! The query runs as written (no `json_agg` wrapper around it), so the
//! binary values of the extended protocol are turned into JSON here: numbers
//! as numbers (CEL compares them), text as strings, json as JSON, times as
//! RFC 3339 text. A type not listed is refused with the cast that fixes it.

use serde_json::{Map, Value as Json};
use sqlx::postgres::{PgRow, PgValueRef};
use sqlx::{Column, Row, TypeInfo, ValueRef};

/// One row as a JSON object keyed by column name.
pub fn row_json(row: &PgRow) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index).map_err(|err| err.to_string())?;
        let value = if raw.is_null() {
            Json::Null
        } else {
            value(row, index, raw).map_err(|type_name| {
                format!(
                    "column '{}' has type {type_name}, which sqlready does not read: cast it in the query ({}::text or ::bigint)",
                    column.name(),
                    column.name()
                )
            })?
        };
        out.insert(column.name().to_string(), value);
    }
    Ok(out)
}

fn value(row: &PgRow, index: usize, raw: PgValueRef<'_>) -> Result<Json, String> {
    let type_name = raw.type_info().name().to_string();
    let decoded = match type_name.as_str() {
        "BOOL" => row.try_get::<bool, _>(index).map(Json::from),
        "INT2" => row.try_get::<i16, _>(index).map(Json::from),
        "INT4" => row.try_get::<i32, _>(index).map(Json::from),
        "INT8" => row.try_get::<i64, _>(index).map(Json::from),
        "OID" => row
            .try_get::<sqlx::postgres::types::Oid, _>(index)
            .map(|oid| Json::from(oid.0)),
        "FLOAT4" => row
            .try_get::<f32, _>(index)
            .map(|f| Json::from(f64::from(f))),
        "FLOAT8" => row.try_get::<f64, _>(index).map(Json::from),
        "NUMERIC" => return numeric(raw.as_bytes().map_err(|_| type_name.clone())?),
        "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" | "CHAR" | "UNKNOWN" | "CITEXT" => {
            let bytes = raw.as_bytes().map_err(|_| type_name.clone())?;
            return Ok(Json::String(String::from_utf8_lossy(bytes).into_owned()));
        }
        "JSON" | "JSONB" => row.try_get::<Json, _>(index),
        "TIMESTAMPTZ" => row
            .try_get::<chrono::DateTime<chrono::Utc>, _>(index)
            .map(|t| Json::String(t.to_rfc3339())),
        "TIMESTAMP" => row
            .try_get::<chrono::NaiveDateTime, _>(index)
            .map(|t| Json::String(t.to_string())),
        "DATE" => row
            .try_get::<chrono::NaiveDate, _>(index)
            .map(|t| Json::String(t.to_string())),
        "PG_LSN" => {
            let bytes = raw.as_bytes().map_err(|_| type_name.clone())?;
            let lsn = <[u8; 8]>::try_from(bytes).map_err(|_| type_name.clone())?;
            let lsn = u64::from_be_bytes(lsn);
            return Ok(Json::String(format!(
                "{:X}/{:X}",
                lsn >> 32,
                lsn & 0xFFFF_FFFF
            )));
        }
        "TEXT[]" | "VARCHAR[]" | "NAME[]" => row.try_get::<Vec<String>, _>(index).map(Json::from),
        "INT4[]" => row.try_get::<Vec<i32>, _>(index).map(Json::from),
        "INT8[]" => row.try_get::<Vec<i64>, _>(index).map(Json::from),
        "BOOL[]" => row.try_get::<Vec<bool>, _>(index).map(Json::from),
        _ => return Err(type_name),
    };
    decoded.map_err(|_| type_name)
}

/// NUMERIC's binary form (digit count, weight, sign, scale, base-10000
/// digits) as a JSON number; NaN and infinities as strings.
fn numeric(bytes: &[u8]) -> Result<Json, String> {
    let word = |i: usize| -> Result<u16, String> {
        bytes
            .get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "NUMERIC".to_string())
    };
    let count = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    match sign {
        0xC000 => return Ok(Json::String("NaN".into())),
        0xD000 => return Ok(Json::String("Infinity".into())),
        0xF000 => return Ok(Json::String("-Infinity".into())),
        _ => {}
    }
    let scale = word(3)?;
    let mut whole: i128 = 0;
    let mut exact = true;
    let mut value = 0f64;
    for i in 0..count {
        let digit = word(4 + i)?;
        let power = weight - i as i32;
        value += f64::from(digit) * 10000f64.powi(power);
        if power >= 0 {
            whole = whole
                .checked_mul(10000)
                .and_then(|w| w.checked_add(i128::from(digit)))
                .unwrap_or_else(|| {
                    exact = false;
                    0
                });
        } else if digit != 0 {
            exact = false;
        }
    }
    // Trailing zero groups the digits leave out.
    if count > 0 && exact {
        let last_power = weight - (count as i32 - 1);
        for _ in 0..last_power.max(0) {
            whole = whole.checked_mul(10000).unwrap_or_else(|| {
                exact = false;
                0
            });
        }
    }
    let negative = sign == 0x4000;
    if exact
        && scale == 0
        && let Ok(whole) = i64::try_from(whole)
    {
        return Ok(Json::from(if negative { -whole } else { whole }));
    }
    let value = if negative { -value } else { value };
    Ok(serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number))
}

#[cfg(test)]
mod tests {
    use super::numeric;

    fn encode(count: u16, weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [count, weight as u16, sign, scale].iter().chain(digits) {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out
    }

    #[test]
    fn numerics_become_numbers() {
        // 1234567 = 123 4567
        assert_eq!(numeric(&encode(2, 1, 0, 0, &[123, 4567])).unwrap(), 1234567);
        // 20000 = 2 0000 (the trailing group is left out)
        assert_eq!(numeric(&encode(1, 1, 0, 0, &[2])).unwrap(), 20000);
        // -12.5
        assert_eq!(
            numeric(&encode(2, 0, 0x4000, 1, &[12, 5000])).unwrap(),
            -12.5
        );
        assert_eq!(numeric(&encode(0, 0, 0, 0, &[])).unwrap(), 0);
        assert_eq!(numeric(&encode(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert!(numeric(&[0, 1]).is_err());
    }
}
