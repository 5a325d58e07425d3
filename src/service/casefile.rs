//! The case file of every work (一工地一档) as use cases: parties and their
//! roles, the append-only records with the work's status following from
//! them, and the case file as one read. Writes check the role and the
//! work's place in the caller's scope (a work outside it is not found);
//! reads see only works in the scope.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use super::ServiceError;
use super::inspections::{work_in_scope, works_in_scope};
use crate::auth::{Action, Caller, Scope};
use crate::casefile::{CaseFile, CaseRecord, Party, PartyRole, RecordBody};
use crate::domain::{Invalid, ProjectStatus};
use crate::store::DynStore;
use crate::store::casefile::{AttachmentMeta, RecordQuery, StoredParty, WorkParty, Written};

fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// Registers a party (district-wide: the same company works in many towns).
pub async fn create_party(
    store: &DynStore,
    caller: &Caller,
    party: Party,
    now: DateTime<Utc>,
) -> Result<StoredParty, ServiceError> {
    caller.require(Action::WriteCaseFile)?;
    let party = Party {
        uscc: party.uscc.trim().to_ascii_uppercase(),
        ..party
    };
    party.validate()?;
    match store.create_party(&party, &caller.user, ms(now)).await {
        Err(crate::store::StoreError::Conflict(what)) => {
            Err(ServiceError::Conflict(format!("{what} exists")))
        }
        other => Ok(other?),
    }
}

/// Every party, by name.
pub async fn parties(store: &DynStore) -> Result<Vec<StoredParty>, ServiceError> {
    Ok(store.parties(None).await?)
}

/// Names a party on a work of the caller's scope in a role.
pub async fn name_party(
    store: &DynStore,
    caller: &Caller,
    project_id: i64,
    party_id: i64,
    role: PartyRole,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    caller.require(Action::WriteCaseFile)?;
    work_in_scope(store, &caller.scope, project_id).await?;
    if store
        .name_party(project_id, party_id, role, &caller.user, ms(now))
        .await?
    {
        Ok(())
    } else {
        Err(Invalid::new("party_id", format!("no party {party_id}")).into())
    }
}

/// Appends a record to a work of the caller's scope; the work's status
/// follows. Its documents must be attachments of the same work.
pub async fn add_record(
    store: &DynStore,
    caller: &Caller,
    project_id: i64,
    body: RecordBody,
    now: DateTime<Utc>,
) -> Result<(CaseRecord, ProjectStatus), ServiceError> {
    caller.require(Action::WriteCaseFile)?;
    body.validate()?;
    work_in_scope(store, &caller.scope, project_id).await?;
    let mut linked: Vec<i64> = body.documents.clone();
    if let crate::casefile::Entry::Notice(n) = &body.entry {
        linked.extend(n.commitment);
    }
    if !linked.is_empty() {
        let own: HashSet<i64> = store
            .attachments(&RecordQuery {
                project: Some(project_id),
                towns: None,
            })
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        if let Some(bad) = linked.iter().find(|id| !own.contains(id)) {
            return Err(Invalid::new(
                "documents",
                format!("attachment {bad} is not an attachment of work {project_id}"),
            )
            .into());
        }
    }
    match store
        .add_record(project_id, &body, &caller.user, ms(now))
        .await?
    {
        Written::Done(r, s) => Ok((*r, s)),
        Written::NoWork => Err(ServiceError::NotFound(format!("project {project_id}"))),
        Written::BadCorrection(why) => Err(Invalid::new("corrects", why).into()),
    }
}

/// A work's case file as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseFileView {
    pub project_id: i64,
    pub status: ProjectStatus,
    /// A notice was served before work started (开工前书面告知).
    pub notified: bool,
    /// The reason the work is outside the 小微工程 scope, if marked.
    pub out_of_scope: Option<String>,
    /// The body an above-limit work was handed over to, if it was.
    pub handed_over_to: Option<String>,
    /// The parties in force, one per role.
    pub parties: Vec<WorkParty>,
    /// Every record, corrected ones too, oldest first.
    pub records: Vec<CaseRecord>,
    /// The ids of the records a later one corrects.
    pub corrected: Vec<i64>,
    pub attachments: Vec<AttachmentMeta>,
    /// The items of 督办 about the work (reminders and their escalation),
    /// oldest first, open and closed.
    pub supervision: Vec<super::supervision::SupervisionItem>,
    /// The names for people of the users the file mentions (who recorded,
    /// uploaded, was told), by login; a login without a name is left out.
    pub names: std::collections::BTreeMap<String, String>,
}

/// The newest naming of each role of each work.
#[must_use]
pub fn parties_in_force(all: Vec<WorkParty>) -> Vec<WorkParty> {
    let mut by: HashMap<(i64, PartyRole), WorkParty> = HashMap::new();
    for p in all {
        by.insert((p.project_id, p.role), p);
    }
    let mut out: Vec<WorkParty> = by.into_values().collect();
    out.sort_by_key(|p| (p.project_id, p.role));
    out
}

/// The case file of a work in the scope.
pub async fn case_file(
    store: &DynStore,
    scope: &Scope,
    project_id: i64,
) -> Result<CaseFileView, ServiceError> {
    let all = super::users::display_names(store).await?;
    case_file_named(store, scope, project_id, &all).await
}

/// [`case_file`] with the users' names already read (`all`).
pub async fn case_file_named(
    store: &DynStore,
    scope: &Scope,
    project_id: i64,
    all: &super::users::Names,
) -> Result<CaseFileView, ServiceError> {
    let work = work_in_scope(store, scope, project_id).await?;
    let q = RecordQuery {
        project: Some(project_id),
        towns: None,
    };
    let records = store.records(&q).await?;
    let file = CaseFile::new(records.clone());
    let parties = parties_in_force(store.work_parties(&q).await?);
    let attachments = store.attachments(&q).await?;
    let supervision = super::supervision::of_work(store, project_id, all).await?;
    let mentioned = records
        .iter()
        .map(|r| &r.recorded_by)
        .chain(parties.iter().map(|p| &p.recorded_by))
        .chain(attachments.iter().map(|a| &a.uploaded_by))
        .chain(supervision.iter().map(|i| &i.owner))
        .chain(
            supervision
                .iter()
                .flat_map(|i| i.chain.iter().map(|s| &s.recipient)),
        );
    let names = mentioned
        .filter_map(|login| Some((login.clone(), all.get(login)?.clone())))
        .collect();
    Ok(CaseFileView {
        project_id,
        status: work.value.status,
        notified: file.notified(work.value.started_on),
        out_of_scope: file.out_of_scope().map(str::to_owned),
        handed_over_to: file.above_limit_handover().map(|h| h.to.clone()),
        parties,
        corrected: records.iter().filter_map(|r| r.body.corrects).collect(),
        records,
        attachments,
        supervision,
        names,
    })
}

/// The case files of every work with records, by work id, for the
/// analyses.
pub async fn case_files(store: &DynStore) -> Result<HashMap<i64, CaseFile>, ServiceError> {
    let mut by: HashMap<i64, Vec<CaseRecord>> = HashMap::new();
    for r in store.records(&RecordQuery::default()).await? {
        by.entry(r.project_id).or_default().push(r);
    }
    Ok(by
        .into_iter()
        .map(|(id, rs)| (id, CaseFile::new(rs)))
        .collect())
}

/// The records of the works a query selects within the scope.
pub async fn records(
    store: &DynStore,
    scope: &Scope,
    mut q: RecordQuery,
) -> Result<Vec<CaseRecord>, ServiceError> {
    q.towns = scope.list_query_towns(q.towns.take());
    let mut out = store.records(&q).await?;
    if let Some(ids) = works_in_scope(store, scope).await? {
        out.retain(|r| ids.contains(&r.project_id));
    }
    Ok(out)
}
