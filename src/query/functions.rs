//! SQL functions that the queries share, so that a rule such as "rounded to
//! 2 decimals, NULL when the denominator is 0" is written once.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;

/// `100 * numerator / denominator` rounded half up to 2 decimals, computed
/// in integers so that no binary fraction tips a half the wrong way; `None`
/// when the denominator is 0.
pub fn percentage(numerator: i64, denominator: i64) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    let (n, d) = (i128::from(numerator), i128::from(denominator));
    let sign = if (n < 0) != (d < 0) { -1 } else { 1 };
    let hundredths = (20_000 * n.abs() + d.abs()) / (2 * d.abs());
    Some((sign * hundredths) as f64 / 100.0)
}

pub fn register(ctx: &SessionContext) {
    let pct = create_udf(
        "pct",
        vec![DataType::Int64, DataType::Int64],
        DataType::Float64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let numerators = arrays[0].as_primitive::<Int64Type>();
            let denominators = arrays[1].as_primitive::<Int64Type>();
            let result: Float64Array = numerators
                .iter()
                .zip(denominators.iter())
                .map(|(n, d)| percentage(n?, d?))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
        }),
    );
    ctx.register_udf(pct);
}

#[cfg(test)]
mod tests {
    use super::percentage;

    #[test]
    fn rounds_half_up_to_two_decimals() {
        assert_eq!(percentage(2, 3), Some(66.67));
        assert_eq!(percentage(1, 3), Some(33.33));
        assert_eq!(percentage(1, 800), Some(0.13));
        assert_eq!(percentage(1, 8), Some(12.5));
        assert_eq!(percentage(5, 5), Some(100.0));
        assert_eq!(percentage(0, 5), Some(0.0));
    }

    #[test]
    fn zero_denominator_is_null() {
        assert_eq!(percentage(0, 0), None);
    }
}
