//! Bulk writes of tracks on PostGIS: the visits of new tracks go in with
//! one binary `COPY` per transaction (a track's lines go in as WKB, see
//! `sql::wkb`).

use sqlx::postgres::PgConnection;

use crate::store::tracks::StoredVisit;

/// Bytes buffered before they are sent to the server.
const SEND_BYTES: usize = 1 << 20;

/// The binary `COPY` header: signature, flags, header extension length.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Adds visits with binary `COPY`: plain rows, no conflict handling, so no
/// row may exist yet for a visit's `(track_id, cell)`.
pub(super) async fn copy_visits(
    conn: &mut PgConnection,
    visits: &[StoredVisit],
) -> Result<(), sqlx::Error> {
    if visits.is_empty() {
        return Ok(());
    }
    let mut copy = conn
        .copy_in_raw(
            "copy cell_visit (track_id, cell, first_ms, last_ms) from stdin with (format binary)",
        )
        .await?;
    let mut buf = Vec::with_capacity(SEND_BYTES + 64);
    buf.extend_from_slice(COPY_HEADER);
    // in the order of the (cell, last_ms) index, whose leaves the rows of
    // many tracks otherwise reach in turn at random (the primary key's
    // leaves, by track, are few per group and stay in memory)
    let mut ordered: Vec<&StoredVisit> = visits.iter().collect();
    ordered.sort_unstable_by_key(|v| (v.cell, v.last_ms, v.track_id));
    for v in ordered {
        // a tuple: its field count, then each field's length and bytes
        buf.extend_from_slice(&4_i16.to_be_bytes());
        for x in [v.track_id, v.cell.cast_signed(), v.first_ms, v.last_ms] {
            buf.extend_from_slice(&8_i32.to_be_bytes());
            buf.extend_from_slice(&x.to_be_bytes());
        }
        if buf.len() >= SEND_BYTES {
            copy.send(std::mem::replace(
                &mut buf,
                Vec::with_capacity(SEND_BYTES + 64),
            ))
            .await?;
        }
    }
    buf.extend_from_slice(&(-1_i16).to_be_bytes());
    copy.send(buf).await?;
    copy.finish().await?;
    Ok(())
}
