//! The DataFusion session over a lake: one table per normalized table, the
//! UDFs registered, and helpers to run SQL.

use std::sync::Arc;

pub use datafusion::arrow::array::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use meshhunt_lake::Lake;
use meshhunt_model::Table;

use crate::config::Config;
use crate::udf;

/// Builds a session whose tables are the lake's Parquet parts (an empty
/// table where the lake has none, so every hunt's SQL plans).
pub async fn lake_session(lake: &Lake, config: &Config) -> Result<SessionContext> {
    let ctx = new_session(config)?;
    for &table in Table::ALL {
        let parts = lake.table_parts(table)?;
        if parts.is_empty() {
            register_empty(&ctx, table)?;
        } else {
            let dir = lake.table_dir(table);
            let schema = table.schema();
            let options = ParquetReadOptions::default()
                .file_extension(".parquet")
                .schema(&schema);
            ctx.register_parquet(table.name(), dir.to_string_lossy().as_ref(), options)
                .await?;
        }
    }
    Ok(ctx)
}

/// A session over in-memory batches (live snapshots, tests).
pub fn memory_session(
    config: &Config,
    batches: &[(Table, Vec<RecordBatch>)],
) -> Result<SessionContext> {
    let ctx = new_session(config)?;
    for &table in Table::ALL {
        let rows: Vec<RecordBatch> = batches
            .iter()
            .filter(|(t, _)| *t == table)
            .flat_map(|(_, b)| b.iter().cloned())
            .collect();
        let mem = MemTable::try_new(table.schema(), vec![rows])?;
        ctx.register_table(table.name(), Arc::new(mem))?;
    }
    Ok(ctx)
}

fn new_session(config: &Config) -> Result<SessionContext> {
    let mut session = SessionConfig::new().with_target_partitions(1);
    // The hunts' inputs are small (kept rows, not raw logs): one partition
    // keeps memory low and costs little time.
    // Plain Utf8 keeps the UDF signatures simple and avoids hidden casts.
    session
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let ctx = SessionContext::new_with_config(session);
    let networks = config
        .networks()
        .map_err(datafusion::error::DataFusionError::Configuration)?;
    udf::register(&ctx, networks, config.lists());
    Ok(ctx)
}

fn register_empty(ctx: &SessionContext, table: Table) -> Result<()> {
    let mem = MemTable::try_new(table.schema(), vec![vec![]])?;
    ctx.register_table(table.name(), Arc::new(mem))?;
    Ok(())
}

/// Runs SQL and collects the result.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}
