//! SQL functions that the queries share, so that a rule such as "rounded to
//! 2 decimals, NULL when the denominator is 0" is written once.
//!
//! `pct` is rewritten by the planner into plain integer arithmetic before a
//! plan leaves this process, so a Ballista executor (which knows nothing of
//! our functions) runs exactly what the local engine runs.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::error::Result;
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    Cast, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{SessionContext, lit};

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
    ctx.register_udf(ScalarUDF::from(Pct::new()));
}

/// `pct(numerator, denominator)`: [`percentage`] in SQL, for the counts the
/// queries divide (never negative).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Pct {
    signature: Signature,
}

impl Pct {
    fn new() -> Pct {
        Pct {
            signature: Signature::exact(
                vec![DataType::Int64, DataType::Int64],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for Pct {
    fn name(&self) -> &str {
        "pct"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    /// Reached only when a plan is run unoptimised: the optimizer replaces
    /// every call by the expression of [`ScalarUDFImpl::simplify`] below.
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let numerators = arrays[0].as_primitive::<Int64Type>();
        let denominators = arrays[1].as_primitive::<Int64Type>();
        let result: Float64Array = numerators
            .iter()
            .zip(denominators.iter())
            .map(|(n, d)| percentage(n?, d?))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
    }

    /// `CAST((20000 * n + d) / NULLIF(2 * d, 0) AS DOUBLE) / 100`: integer
    /// division truncates, which for counts is [`percentage`]'s half-up
    /// rounding; a zero denominator divides by NULL and gives NULL.
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [numerator, denominator] = <[Expr; 2]>::try_from(args).map_err(|args| {
            datafusion::error::DataFusionError::Plan(format!(
                "pct takes 2 arguments, got {}",
                args.len()
            ))
        })?;
        let hundredths = (lit(20_000_i64) * numerator + denominator.clone())
            / nullif(lit(2_i64) * denominator, lit(0_i64));
        let value = Expr::Cast(Cast::new(Box::new(hundredths), DataType::Float64));
        Ok(ExprSimplifyResult::Simplified(value / lit(100.0_f64)))
    }
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

    /// The rewritten SQL and the Rust function agree on every pair of small
    /// counts, the halves included.
    #[tokio::test]
    async fn sql_pct_equals_percentage() {
        let ctx = datafusion::prelude::SessionContext::new();
        super::register(&ctx);
        let sql = "SELECT n, d, pct(n, d) AS p \
                   FROM (SELECT n FROM unnest(range(0, 41)) AS t(n)) \
                   CROSS JOIN (SELECT d FROM unnest(range(0, 41)) AS u(d)) \
                   WHERE n <= d";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut checked = 0;
        for batch in &batches {
            let n = batch.column(0).as_primitive::<Int64Type>();
            let d = batch.column(1).as_primitive::<Int64Type>();
            let p = batch
                .column(2)
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>();
            for i in 0..batch.num_rows() {
                let got = (!p.is_null(i)).then(|| p.value(i));
                assert_eq!(
                    got,
                    percentage(n.value(i), d.value(i)),
                    "pct({}, {})",
                    n.value(i),
                    d.value(i)
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 41 * 42 / 2);
    }

    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
}
