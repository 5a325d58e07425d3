//! [`CaseFileStore`] on every SQL backend: parties, the append-only records
//! with the status of their work derived in the same transaction, and
//! attachments stored once by SHA-256.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind_list, fetch_one, qb};
use crate::casefile::{CaseFile, CaseRecord, Party, PartyRole, RecordBody};
use crate::domain::ProjectStatus;
use crate::inspection::checklist::InspectionDetail;
use crate::store::StoreError;
use crate::store::casefile::{
    AttachmentMeta, CaseFileStore, NewAttachment, RecordQuery, StoredParty, WorkParty, Written,
};

const PARTY_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "uscc",
    "contact",
    "phone",
    "recorded_by",
    "recorded_at",
];
const RECORD_COLUMNS: [&str; 8] = [
    "id",
    "project_id",
    "kind",
    "on_day",
    "number",
    "corrects",
    "body",
    "recorded_by",
];
const ATTACHMENT_COLUMNS: [&str; 12] = [
    "a.id",
    "a.project_id",
    "a.sha256",
    "b.media_type",
    "b.size_bytes",
    "a.file_name",
    "b.taken_at",
    "b.lon",
    "b.lat",
    "a.uploaded_by",
    "a.uploaded_at",
    "b.bytes",
];

fn party<D: Dialect>(row: &D::Row, prefix: &str) -> Result<StoredParty, StoreError> {
    let r = RowReader::<D>(row);
    let c = |n: &str| format!("{prefix}{n}");
    Ok(StoredParty {
        id: r.i64(&c("id"))?,
        party: Party {
            name: r.text(&c("name"))?,
            uscc: r.text(&c("uscc"))?,
            contact: r.text(&c("contact"))?,
            phone: r.text(&c("phone"))?,
        },
        recorded_by: r.text(&c("recorded_by"))?,
        recorded_at: r.time(&c("recorded_at"))?,
    })
}

fn record<D: Dialect>(row: &D::Row) -> Result<CaseRecord, StoreError> {
    let r = RowReader::<D>(row);
    let body: RecordBody = serde_json::from_value(r.json("body")?)
        .map_err(|e| StoreError::Corrupt(format!("case_record.body: {e}")))?;
    Ok(CaseRecord {
        id: r.i64("id")?,
        project_id: r.i64("project_id")?,
        body,
        recorded_by: r.text("recorded_by")?,
        recorded_at: r.time("recorded_at")?,
    })
}

fn attachment<D: Dialect>(row: &D::Row) -> Result<AttachmentMeta, StoreError> {
    let r = RowReader::<D>(row);
    Ok(AttachmentMeta {
        id: r.i64("id")?,
        project_id: r.i64("project_id")?,
        sha256: r.text("sha256")?,
        media_type: r.text("media_type")?,
        size_bytes: r.i64("size_bytes")?,
        file_name: r.text("file_name")?,
        taken_at: r.opt_time("taken_at")?,
        lon: D::get_f64(row, "lon")?,
        lat: D::get_f64(row, "lat")?,
        uploaded_by: r.text("uploaded_by")?,
        uploaded_at: r.time("uploaded_at")?,
    })
}

/// ` and <project column> ...` for the query's filters.
fn push_filters<D: Dialect>(b: &mut Qb<'_, D>, project_col: &str, q: &RecordQuery) {
    if let Some(p) = q.project {
        b.push(format!(" and {project_col} = "));
        D::bind_i64(b, Some(p));
    }
    if let Some(towns) = &q.towns {
        b.push(format!(
            " and {project_col} in (select id from project where {}",
            D::WHERE_ALL
        ));
        D::push_text_in(b, "town_code", towns);
        b.push(")");
    }
}

fn record_select<D: Dialect>() -> String {
    format!(
        "select {}, {} from case_record where {}",
        D::columns(&RECORD_COLUMNS, true),
        D::columns(&["recorded_at"], true),
        D::WHERE_ALL
    )
}

fn attachment_select<D: Dialect>(with_bytes: bool) -> String {
    let cols = if with_bytes {
        &ATTACHMENT_COLUMNS[..]
    } else {
        &ATTACHMENT_COLUMNS[..11]
    };
    format!(
        "select {} from attachment a join blob b on b.sha256 = a.sha256 where {}",
        D::columns(cols, true),
        D::WHERE_ALL
    )
}

async fn all<D: Dialect, T>(
    backend: &impl SqlBackend<Db = D>,
    b: &mut Qb<'_, D>,
    read: impl Fn(&D::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut conn = backend.sql_pool().acquire().await?;
    D::fetch_all(&mut conn, b).await?.iter().map(read).collect()
}

#[async_trait]
impl<S: SqlBackend> CaseFileStore for S {
    async fn create_party(
        &self,
        p: &Party,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredParty, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(format!(
            "insert into party ({}) values (",
            S::Db::columns(&PARTY_COLUMNS[1..], false)
        ));
        bind_list(
            &mut b,
            [
                Arg::text(&p.name),
                Arg::text(&p.uscc),
                Arg::text(&p.contact),
                Arg::text(&p.phone),
                Arg::text(by),
                Arg::time(at),
            ],
        );
        b.push(format!(
            ") returning {}",
            S::Db::columns(&PARTY_COLUMNS, true)
        ));
        let row = match fetch_one::<S::Db>(&mut tx, &mut b).await {
            Ok(row) => row,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "a party with 统一社会信用代码 {}",
                    p.uscc
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let stored = party::<S::Db>(&row, "")?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn parties(&self, ids: Option<&[i64]>) -> Result<Vec<StoredParty>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {} from party where {}",
            S::Db::columns(&PARTY_COLUMNS, true),
            S::Db::WHERE_ALL
        ));
        if let Some(ids) = ids {
            S::Db::push_id_in(&mut b, "id", ids);
        }
        b.push(" order by name, id");
        all(self, &mut b, |r| party::<S::Db>(r, "")).await
    }

    async fn name_party(
        &self,
        project_id: i64,
        party_id: i64,
        role: PartyRole,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>("select p.id from project p, party q where p.id = ");
        S::Db::bind_i64(&mut b, Some(project_id));
        b.push(" and q.id = ");
        S::Db::bind_i64(&mut b, Some(party_id));
        if S::Db::fetch_optional(&mut tx, &mut b).await?.is_none() {
            return Ok(false);
        }
        let mut b = qb::<S::Db>(format!(
            "insert into project_party (project_id, party_id, role, recorded_by, {}) values (",
            S::Db::time_col("recorded_at")
        ));
        bind_list(
            &mut b,
            [
                Arg::I64(Some(project_id)),
                Arg::I64(Some(party_id)),
                Arg::text(role.as_str()),
                Arg::text(by),
                Arg::time(at),
            ],
        );
        b.push(")");
        S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn work_parties(&self, q: &RecordQuery) -> Result<Vec<WorkParty>, StoreError> {
        let party_cols: Vec<String> = PARTY_COLUMNS
            .iter()
            .map(|c| {
                let stored = S::Db::time_col(&format!("q.{c}"));
                format!("{stored} as party_{c}")
            })
            .collect();
        let mut b = qb::<S::Db>(format!(
            "select pp.project_id, pp.role, pp.recorded_by, {} as recorded_at, {} \
             from project_party pp join party q on q.id = pp.party_id where {}",
            S::Db::time_col("pp.recorded_at"),
            party_cols.join(", "),
            S::Db::WHERE_ALL
        ));
        push_filters(&mut b, "pp.project_id", q);
        b.push(format!(
            " order by {}, pp.id",
            S::Db::time_col("pp.recorded_at")
        ));
        all(self, &mut b, |row| {
            let r = RowReader::<S::Db>(row);
            let role: PartyRole = r.parse("role")?;
            Ok(WorkParty {
                project_id: r.i64("project_id")?,
                role,
                role_zh: role.label_zh(),
                party: party::<S::Db>(row, "party_")?,
                recorded_by: r.text("recorded_by")?,
                recorded_at: r.time("recorded_at")?,
            })
        })
        .await
    }

    async fn add_record(
        &self,
        project_id: i64,
        body: &RecordBody,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Written, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>("select status, started_on from project where id = ");
        S::Db::bind_i64(&mut b, Some(project_id));
        b.push(S::Db::FOR_UPDATE);
        let Some(row) = S::Db::fetch_optional(&mut tx, &mut b).await? else {
            return Ok(Written::NoWork);
        };
        let (status, started_on): (ProjectStatus, _) = {
            let r = RowReader::<S::Db>(&row);
            (r.parse("status")?, S::Db::get_date(&row, "started_on")?)
        };
        let mut b = qb::<S::Db>(record_select::<S::Db>());
        b.push(" and project_id = ");
        S::Db::bind_i64(&mut b, Some(project_id));
        b.push(format!(" order by {}, id", S::Db::time_col("recorded_at")));
        let mut records = S::Db::fetch_all(&mut tx, &mut b)
            .await?
            .iter()
            .map(record::<S::Db>)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(c) = body.corrects {
            let in_force = CaseFile::new(records.clone());
            if !in_force
                .records
                .iter()
                .any(|r| r.id == c && r.kind() == body.entry.kind())
            {
                return Ok(Written::BadCorrection(format!(
                    "record {c} is not a {} of this work in force (corrected already, or of another kind or work)",
                    body.entry.kind()
                )));
            }
        }
        let json = serde_json::to_value(body)
            .map_err(|e| StoreError::Corrupt(format!("case record: {e}")))?;
        let mut b = qb::<S::Db>(format!(
            "insert into case_record ({}, {}) values (",
            S::Db::columns(&RECORD_COLUMNS[1..], false),
            S::Db::time_col("recorded_at")
        ));
        bind_list(
            &mut b,
            [
                Arg::I64(Some(project_id)),
                Arg::text(body.entry.kind().as_str()),
                Arg::Date(Some(body.entry.day(at))),
                Arg::Text(body.entry.number().map(str::to_owned)),
                Arg::I64(body.corrects),
                Arg::Json(Some(json)),
                Arg::text(by),
                Arg::time(at),
            ],
        );
        b.push(format!(
            ") returning {}, {}",
            S::Db::columns(&RECORD_COLUMNS, true),
            S::Db::columns(&["recorded_at"], true)
        ));
        let stored = record::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut b).await?)?;
        records.push(stored.clone());
        let derived = CaseFile::new(records).status(status, started_on);
        if derived != status {
            let mut b = qb::<S::Db>("update project set status = ");
            bind_list(&mut b, [Arg::text(derived.as_str())]);
            b.push(format!(", {} = ", S::Db::time_col("updated_at")));
            bind_list(&mut b, [Arg::time(at)]);
            b.push(" where id = ");
            S::Db::bind_i64(&mut b, Some(project_id));
            S::Db::execute(&mut tx, &mut b).await?;
        }
        tx.commit().await?;
        Ok(Written::Done(Box::new(stored), derived))
    }

    async fn records(&self, q: &RecordQuery) -> Result<Vec<CaseRecord>, StoreError> {
        let mut b = qb::<S::Db>(record_select::<S::Db>());
        push_filters(&mut b, "project_id", q);
        b.push(format!(" order by {}, id", S::Db::time_col("recorded_at")));
        all(self, &mut b, record::<S::Db>).await
    }

    async fn put_attachment(&self, new: &NewAttachment) -> Result<AttachmentMeta, StoreError> {
        let m = &new.meta;
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(format!(
            "insert into blob (sha256, media_type, size_bytes, bytes, {}, lon, lat) values (",
            S::Db::time_col("taken_at")
        ));
        bind_list(
            &mut b,
            [
                Arg::text(&m.sha256),
                Arg::text(&m.media_type),
                Arg::I64(Some(m.size_bytes)),
                Arg::Bytes(new.bytes.clone()),
                Arg::Time(m.taken_at),
                Arg::F64(m.lon),
                Arg::F64(m.lat),
            ],
        );
        // the same content uploaded again keeps its first row
        b.push(") on conflict (sha256) do nothing");
        S::Db::execute(&mut tx, &mut b).await?;
        let mut b = qb::<S::Db>(format!(
            "insert into attachment (sha256, project_id, file_name, uploaded_by, {}) values (",
            S::Db::time_col("uploaded_at")
        ));
        bind_list(
            &mut b,
            [
                Arg::text(&m.sha256),
                Arg::I64(Some(m.project_id)),
                Arg::text(&m.file_name),
                Arg::text(&m.uploaded_by),
                Arg::time(m.uploaded_at),
            ],
        );
        b.push(") returning id");
        let id = RowReader::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut b).await?).i64("id")?;
        let mut b = qb::<S::Db>(attachment_select::<S::Db>(false));
        b.push(" and a.id = ");
        S::Db::bind_i64(&mut b, Some(id));
        let meta = attachment::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut b).await?)?;
        tx.commit().await?;
        Ok(meta)
    }

    async fn attachment(&self, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>, StoreError> {
        let mut b = qb::<S::Db>(attachment_select::<S::Db>(true));
        b.push(" and a.id = ");
        S::Db::bind_i64(&mut b, Some(id));
        let mut conn = self.sql_pool().acquire().await?;
        let Some(row) = S::Db::fetch_optional(&mut conn, &mut b).await? else {
            return Ok(None);
        };
        Ok(Some((
            attachment::<S::Db>(&row)?,
            S::Db::get_bytes(&row, "bytes")?,
        )))
    }

    async fn attachments(&self, q: &RecordQuery) -> Result<Vec<AttachmentMeta>, StoreError> {
        let mut b = qb::<S::Db>(attachment_select::<S::Db>(false));
        push_filters(&mut b, "a.project_id", q);
        b.push(" order by a.id");
        all(self, &mut b, attachment::<S::Db>).await
    }

    async fn inspection_details(
        &self,
        q: &RecordQuery,
    ) -> Result<HashMap<i64, InspectionDetail>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select d.inspection_id, d.detail from inspection_detail d \
             join inspection i on i.id = d.inspection_id where {}",
            S::Db::WHERE_ALL
        ));
        push_filters(&mut b, "i.project_id", q);
        let rows = all(self, &mut b, |row| {
            let r = RowReader::<S::Db>(row);
            let detail: InspectionDetail = serde_json::from_value(r.json("detail")?)
                .map_err(|e| StoreError::Corrupt(format!("inspection_detail.detail: {e}")))?;
            Ok((r.i64("inspection_id")?, detail))
        })
        .await?;
        Ok(rows.into_iter().collect())
    }
}
