//! Rust functions the hunt SQL calls. They read the config, so what counts
//! as external, standard or noisy is decided in one place.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use meshhunt_model::Networks;

use crate::config::{basename_lower, Lists};

/// Registers every meshhunt UDF on a session.
pub fn register(ctx: &SessionContext, networks: Networks, lists: Lists) {
    let networks = Arc::new(networks);
    let lists = Arc::new(lists);

    let n = networks.clone();
    ctx.register_udf(str_to_str("ip_scope", move |ip| {
        n.scope_of(ip).map(|s| s.as_str().to_owned())
    }));
    let n = networks.clone();
    ctx.register_udf(str_to_bool("is_external", move |ip| {
        n.scope_of(ip).map(|s| s.is_external())
    }));
    let n = networks;
    ctx.register_udf(str_to_bool("is_internal_peer", move |ip| {
        n.scope_of(ip).map(|s| s.is_internal_peer())
    }));
    let l = lists.clone();
    ctx.register_udf(int_to_bool("is_standard_port", move |port| {
        u16::try_from(port)
            .ok()
            .map(|p| l.standard_ports.contains(&p))
    }));
    let l = lists.clone();
    ctx.register_udf(int_to_bool("is_internal_service_port", move |port| {
        u16::try_from(port)
            .ok()
            .map(|p| l.internal_service_ports.contains(&p))
    }));
    let l = lists.clone();
    ctx.register_udf(str_to_bool("is_many_peers_program", move |image| {
        Some(l.many_peers.contains(&basename_lower(image)))
    }));
    let l = lists.clone();
    ctx.register_udf(str_to_bool("is_stager", move |image| {
        Some(l.stagers.contains(&basename_lower(image)))
    }));
    let l = lists.clone();
    ctx.register_udf(str_to_bool("is_native_program", move |image| {
        Some(l.native.contains(&basename_lower(image)))
    }));
    let l = lists;
    ctx.register_udf(str_to_bool("is_user_writable", move |image| {
        Some(l.is_user_writable(image))
    }));
    ctx.register_udf(str_to_str("basename", |path| Some(basename_lower(path))));
    ctx.register_udf(str_to_f64("entropy", |text| Some(shannon_entropy(text))));
}

/// Shannon entropy of a string's bytes, in bits per byte.
pub fn shannon_entropy(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[b as usize] += 1;
    }
    let len = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

fn first_array(args: &[ColumnarValue]) -> Result<(ArrayRef, bool)> {
    let arg = args
        .first()
        .ok_or_else(|| DataFusionError::Internal("UDF called without an argument".into()))?;
    let scalar = matches!(arg, ColumnarValue::Scalar(_));
    Ok((arg.to_array(1)?, scalar))
}

fn finish(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(
            datafusion::common::ScalarValue::try_from_array(&array, 0)?,
        ))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

fn strings(array: &ArrayRef) -> Result<Vec<Option<&str>>> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        DataType::Null => vec![None; array.len()],
        other => {
            return Err(DataFusionError::Execution(format!(
                "expected a string argument, got {other}"
            )))
        }
    })
}

/// A one-string-argument UDF returning `A`'s element type.
fn str_udf<T, A>(
    name: &str,
    returns: DataType,
    f: impl Fn(&str) -> Option<T> + Send + Sync + 'static,
) -> ScalarUDF
where
    A: Array + FromIterator<Option<T>> + 'static,
{
    let fun = move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let (array, scalar) = first_array(args)?;
        let out: A = strings(&array)?
            .into_iter()
            .map(|v| v.and_then(&f))
            .collect();
        finish(Arc::new(out), scalar)
    };
    create_udf(
        name,
        vec![DataType::Utf8],
        returns,
        Volatility::Immutable,
        Arc::new(fun),
    )
}

fn str_to_bool(name: &str, f: impl Fn(&str) -> Option<bool> + Send + Sync + 'static) -> ScalarUDF {
    str_udf::<bool, BooleanArray>(name, DataType::Boolean, f)
}

fn str_to_str(name: &str, f: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> ScalarUDF {
    str_udf::<String, StringArray>(name, DataType::Utf8, f)
}

fn str_to_f64(name: &str, f: impl Fn(&str) -> Option<f64> + Send + Sync + 'static) -> ScalarUDF {
    str_udf::<f64, Float64Array>(name, DataType::Float64, f)
}

fn int_to_bool(name: &str, f: impl Fn(i64) -> Option<bool> + Send + Sync + 'static) -> ScalarUDF {
    let fun = move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let (array, scalar) = first_array(args)?;
        let ints = datafusion::arrow::compute::cast(&array, &DataType::Int64)?;
        let ints: &Int64Array = ints.as_primitive();
        let out: BooleanArray = ints.iter().map(|v| v.and_then(&f)).collect();
        finish(Arc::new(out), scalar)
    };
    create_udf(
        name,
        vec![DataType::Int64],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(fun),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_random_labels_is_high() {
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!(shannon_entropy("x7f3k9q2zr8w1m4v") > 3.5);
    }
}
