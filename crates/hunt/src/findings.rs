//! Hunt result rows to `Finding`s. The SQL returns the findings columns it
//! knows; every other column becomes a key of the evidence object.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::ArrayFormatter;
use meshhunt_model::{Finding, Severity};
use serde_json::{Map, Value};

use crate::huntdef::HuntDef;

const CORE: &[&str] = &[
    "host",
    "pid",
    "process_guid",
    "image",
    "entity",
    "summary",
    "score",
    "severity",
    "ts_first",
    "ts_last",
];

pub fn to_findings(hunt: &HuntDef, batches: &[RecordBatch]) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut core = Map::new();
            let mut evidence = Map::new();
            for (i, field) in schema.fields().iter().enumerate() {
                let value = json_value(batch.column(i), row)?;
                if CORE.contains(&field.name().as_str()) {
                    core.insert(field.name().clone(), value);
                } else if !value.is_null() {
                    evidence.insert(field.name().clone(), value);
                }
            }
            out.push(finding(hunt, core, evidence)?);
        }
    }
    Ok(out)
}

fn finding(
    hunt: &HuntDef,
    core: Map<String, Value>,
    evidence: Map<String, Value>,
) -> Result<Finding, String> {
    let text = |k: &str| core.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let int = |k: &str| core.get(k).and_then(Value::as_i64);
    let score = core
        .get("score")
        .and_then(Value::as_f64)
        .map(|s| s.clamp(0.0, 100.0));
    let severity = match (text("severity"), score) {
        (Some(s), _) => Severity::parse(&s)
            .ok_or_else(|| format!("hunt {} returned severity {s:?}", hunt.id))?,
        (None, Some(score)) => Severity::from_score(score),
        (None, None) => hunt.severity,
    };
    let summary = text("summary")
        .ok_or_else(|| format!("hunt {} returned a row without a summary", hunt.id))?;
    Ok(Finding {
        hunt: hunt.id.clone(),
        severity,
        score: score.unwrap_or(0.0).round(),
        ts_first: int("ts_first"),
        ts_last: int("ts_last"),
        host: text("host"),
        pid: int("pid"),
        process_guid: text("process_guid"),
        image: text("image"),
        entity: text("entity"),
        summary,
        evidence: Value::Object(evidence),
        attack: hunt.attack.clone(),
    })
}

/// One cell as JSON: numbers, strings, booleans and lists of them.
fn json_value(array: &ArrayRef, row: usize) -> Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Value::from(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Value::from(array.as_string_view().value(row)),
        DataType::Boolean => Value::from(array.as_boolean().value(row)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let cast = datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Int64)
                .map_err(|e| e.to_string())?;
            Value::from(
                cast.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .value(0),
            )
        }
        DataType::Float32 | DataType::Float64 => {
            let cast = datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Float64)
                .map_err(|e| e.to_string())?;
            let v = cast
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(0);
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
        }
        DataType::List(_) => list_json(&array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list_json(&array.as_list::<i64>().value(row))?,
        _ => {
            let fmt = ArrayFormatter::try_new(array.as_ref(), &Default::default())
                .map_err(|e| e.to_string())?;
            Value::from(fmt.value(row).to_string())
        }
    })
}

fn list_json(values: &ArrayRef) -> Result<Value, String> {
    (0..values.len())
        .map(|i| json_value(values, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}
