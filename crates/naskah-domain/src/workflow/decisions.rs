//! Decisions at a paraf or signature step: who may act and as what, the checks before,
//! and the one transaction that records the signed statement (and, for a signature,
//! stamps the letter).

use super::*;

impl Workflow {
    /// Whether, and as what, the user may act on an approval step.
    pub async fn capacity(&self, user: &User, step: &Step, today: NaiveDate) -> Result<Option<Capacity>, Error> {
        let (Some(official_id), Some(position_id)) = (user.official_id, step.position_id) else {
            return Ok(None);
        };
        if !(user.has(Role::Approver) || user.has(Role::Signer)) {
            return Ok(None);
        }
        if step.step_kind() == StepKind::TandaTangan && !user.has(Role::Signer) {
            return Ok(None);
        }
        let official = match departments::get_official(&self.db, user.department_id, official_id).await {
            Ok(o) => o,
            Err(departments::Error::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if official.position_id == Some(position_id) {
            return Ok(Some(Capacity {
                official,
                acting_as: String::new(),
            }));
        }
        let assignment = delegation::valid_for(&self.db, position_id, official_id, today).await?;
        Ok(assignment.map(|d| Capacity {
            official,
            acting_as: d.sebutan().into(),
        }))
    }

    /// Unlocks the user's signing key with the passphrase (nothing is recorded on failure
    /// except the count of failures for the lock).
    pub async fn unlock(&self, user: &User, passphrase: &str) -> Result<Unlocked, Error> {
        let official_id = user.official_id.ok_or_else(|| {
            Error::Forbidden("Akun Anda tidak terhubung dengan data pejabat, sehingga tidak dapat memaraf atau menandatangani.".into())
        })?;
        if passphrase.is_empty() {
            return Err(Error::Invalid(FieldErrors::single("passphrase", "Masukkan frasa sandi.")));
        }
        Ok(keys::unlock(&self.db, &self.keys, official_id, passphrase).await?)
    }

    /// Paraf, signature, return or rejection of one letter by the user, with the
    /// passphrase of their key. `expected_revision` is the revision the user looked at:
    /// if the letter changed since, nothing happens and they are told.
    pub async fn decide(&self, user: &User, letter_id: i64, request: &DecisionRequest, passphrase: &str) -> Result<Letter, Error> {
        // Check everything that needs no key first, so a letter that is not the user's
        // turn does not cost a passphrase attempt.
        let step_id = self.preflight(user, letter_id, request).await?;
        let key = self.unlock(user, passphrase).await?;
        self.decide_unlocked(user, letter_id, Some(step_id), request, &key).await
    }

    /// A decision with a key the caller unlocked already (bulk work spread over tasks).
    pub async fn decide_with_key(&self, user: &User, letter_id: i64, request: &DecisionRequest, key: &Unlocked) -> Result<Letter, Error> {
        self.decide_unlocked(user, letter_id, None, request, key).await
    }

    /// The step the user would decide on now, after checking the decision fits it.
    pub(super) async fn preflight(&self, user: &User, letter_id: i64, request: &DecisionRequest) -> Result<i64, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let department = self.department(letter.department_id).await?;
        let (step, capacity) = self.my_step(user, &letter, &department).await?;
        let deadlines = self.deadlines_for(&letter, &department, request.decision).await?;
        check_decision(&letter, &step, &capacity, request, self.allocates_budget(&letter), &deadlines)?;
        Ok(step.id)
    }

    pub(super) fn allocates_budget(&self, letter: &Letter) -> bool {
        self.catalogue.get(&letter.template_id).is_ok_and(|m| m.allocates_budget)
    }

    /// The deadlines of the letter's current revision that are before the date it would
    /// carry if signed now (today in the department's time zone). Only a signature needs
    /// them; other decisions get none.
    pub(super) async fn deadlines_for(
        &self,
        letter: &Letter,
        department: &Department,
        decision: Decision,
    ) -> Result<PassedDeadlines, Error> {
        if decision != Decision::TandaTangan {
            return Ok(PassedDeadlines::default());
        }
        self.passed_deadlines(letter, department).await
    }

    /// The deadlines of the letter's current revision that are before the date it would
    /// carry if signed now: for the warning on its page and the signer's confirmation.
    pub async fn passed_deadlines(&self, letter: &Letter, department: &Department) -> Result<PassedDeadlines, Error> {
        let letter_date = department.tz().today();
        let Ok(manifest) = self.catalogue.get(&letter.template_id) else {
            return Ok(PassedDeadlines::default());
        };
        if !manifest.fields.iter().any(|f| f.deadline) {
            return Ok(PassedDeadlines::default());
        }
        let data = queries::revision_data(&self.db, letter.id, letter.revision).await?;
        Ok(PassedDeadlines {
            passed: letters::deadline::passed(manifest, &data, letter_date),
            letter_date,
        })
    }

    /// The active approval step of the letter that the user may act on.
    pub(super) async fn my_step(&self, user: &User, letter: &Letter, department: &Department) -> Result<(Step, Capacity), Error> {
        if letter.state != state::PROSES {
            return Err(Error::NotYourTurn(format!(
                "Surat ini berstatus {} dan tidak menunggu paraf atau tanda tangan.",
                letter.state_label().to_lowercase()
            )));
        }
        let today = department.tz().today();
        for step in current_steps(&self.db, letter).await? {
            if step.state != step_state::AKTIF {
                continue;
            }
            if let Some(capacity) = self.capacity(user, &step, today).await? {
                return Ok((step, capacity));
            }
        }
        Err(Error::NotYourTurn(
            "Surat ini sedang menunggu pejabat lain; Anda tidak dapat bertindak pada tahap ini.".into(),
        ))
    }

    /// Records the decision on the user's step: `step_id` when the caller checked it
    /// already, else the one found now. The decision never moves on to another step: if
    /// the letter has passed that step meanwhile (or the user holds the next one too),
    /// the user is told instead.
    pub(super) async fn decide_unlocked(
        &self,
        user: &User,
        letter_id: i64,
        mut step_id: Option<i64>,
        request: &DecisionRequest,
        key: &Unlocked,
    ) -> Result<Letter, Error> {
        // Parallel approvers of one stage may collide on the letter's version without
        // competing for the same step: after a collision, try again once if the
        // user's step is still open.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let letter = get(&self.db, user.department_id, letter_id).await?;
            let department = self.department(letter.department_id).await?;
            if request.expected_revision != letter.revision {
                return Err(Error::Conflict(format!(
                    "Surat ini sudah berubah (revisi {} → {}); periksa lagi sebelum memutuskan.",
                    request.expected_revision, letter.revision
                )));
            }
            let (step, capacity) = match (self.my_step(user, &letter, &department).await, step_id) {
                (Ok(found), None) => found,
                (Ok(found), Some(id)) if found.0.id == id => found,
                (Ok(_) | Err(Error::NotYourTurn(_)), Some(_)) => {
                    return Err(Error::Conflict(
                        "Tahap ini baru saja diputuskan; muat ulang untuk melihat keadaan surat sekarang.".into(),
                    ));
                }
                (Err(e), _) => return Err(e),
            };
            step_id = Some(step.id);
            let deadlines = self.deadlines_for(&letter, &department, request.decision).await?;
            check_decision(&letter, &step, &capacity, request, self.allocates_budget(&letter), &deadlines)?;
            if capacity.official.id != key.info.official_id {
                return Err(Error::Forbidden("Kunci yang dibuka bukan milik pejabat ini.".into()));
            }
            match self
                .record_decision(user, &department, &letter, &step, &capacity, request, key, None)
                .await
            {
                Err(Error::Conflict(_)) if attempts == 1 => continue,
                other => return other,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_decision(
        &self,
        user: &User,
        department: &Department,
        letter: &Letter,
        step: &Step,
        capacity: &Capacity,
        request: &DecisionRequest,
        key: &Unlocked,
        signed_remotely: Option<&remote::Completion>,
    ) -> Result<Letter, Error> {
        // A remote backend's letter is stamped and signed in its own steps
        // (`remote`); here it is only completed, or held if a number is stamped.
        self.remote_guard(department, letter, request.decision, signed_remotely.is_some())
            .await?;
        let rev = revision(&self.db, letter.id, letter.revision).await?;
        // What the final document needs is read before the transaction: inside it, the
        // signing holds its connection and must not wait for another from the pool.
        let finishing = match request.decision {
            Decision::TandaTangan if signed_remotely.is_none() => {
                Some(self.prepare_final(department, letter, &capacity.official, key).await?)
            }
            _ => None,
        };
        // The distribution list is part of the signed letter: planned now, stored in the
        // signing transaction (before the number is taken), so no signed letter lacks it.
        let planned = match request.decision {
            Decision::TandaTangan => {
                let manifest = self.catalogue.get(&letter.template_id)?;
                self.distribution.plan(&self.db, letter, manifest, &rev.fields()).await?
            }
            _ => Box::new(distribution_plan::NoDistribution),
        };
        // Signatures of one department take numbers from the same series row, one after
        // the other; beyond a few at once they only wait for the row while holding pool
        // connections that other requests need. They queue here instead.
        let _signing = match request.decision {
            Decision::TandaTangan => Some(SIGNING.acquire().await.map_err(|e| Error::Internal(e.to_string()))?),
            _ => None,
        };
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, letter, letter.version, at).await?;
        let taken = sqlx::query("UPDATE letter_steps SET state = $1 WHERE id = $2 AND state = $3")
            .bind(step_state::SELESAI)
            .bind(step.id)
            .bind(step_state::AKTIF)
            .execute(&mut *tx)
            .await?;
        if taken.rows_affected() != 1 {
            return Err(Error::Conflict("Tahap ini baru saja diputuskan oleh orang lain.".into()));
        }
        let last: Option<(i64, String)> =
            sqlx::query_as::<Any, (i64, String)>("SELECT seq, hash FROM letter_statements WHERE letter_id = $1 ORDER BY seq DESC LIMIT 1")
                .bind(letter.id)
                .fetch_optional(&mut *tx)
                .await?;
        let (seq, prev) = last.map(|(s, h)| (s + 1, h)).unwrap_or((1, GENESIS.to_string()));
        let statement = Statement {
            dinas: department.id,
            dinas_kode: department.slug.clone(),
            surat: letter.id,
            revisi: rev.number,
            sha256_data: rev.data_sha256.clone(),
            sha256_pdf: rev.pdf_sha256.clone(),
            langkah: step.id,
            putaran: step.round,
            tahap: step.stage,
            jenis_tahap: step.kind.clone(),
            nama_tahap: step.label.clone(),
            keputusan: request.decision.key().into(),
            catatan: request.note.trim().into(),
            pejabat: capacity.official.id,
            nama_pejabat: capacity.official.full_name(),
            kunci: key.info.key_id.clone(),
            sebagai: capacity.acting_as.clone(),
            waktu: at,
            sebelumnya: prev.clone(),
        };
        let canonical = statement.canonical();
        let signature = statement::sign(&key.signing, &canonical);
        let hash = sha256_hex(canonical.as_bytes());
        sqlx::query(
            "INSERT INTO letter_statements (letter_id, seq, step_id, revision, decision, official_id, key_id, statement, hash, prev_hash, signature, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(letter.id)
        .bind(seq)
        .bind(step.id)
        .bind(rev.number)
        .bind(request.decision.key())
        .bind(capacity.official.id)
        .bind(&key.info.key_id)
        .bind(&canonical)
        .bind(&hash)
        .bind(&prev)
        .bind(&signature)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match DbError::Sqlx(e) {
            e if e.is_unique_violation() => Error::Conflict("Surat ini baru saja diputuskan oleh orang lain.".into()),
            e => Error::Db(e),
        })?;
        complete_step(
            &mut tx,
            step.id,
            user.id,
            Some(capacity.official.id),
            &capacity.acting_as,
            request.decision.key(),
            request.note.trim(),
            at,
        )
        .await?;
        let outcome = match request.decision {
            Decision::Paraf => advance(&mut tx, letter, at).await?,
            Decision::TandaTangan => {
                let recipients = planned.write(&mut tx, letter, at).await?;
                sqlx::query("UPDATE letters SET recipients = $1 WHERE id = $2")
                    .bind(recipients)
                    .bind(letter.id)
                    .execute(&mut *tx)
                    .await?;
                close_round(&mut tx, letter, at).await?;
                let number = match signed_remotely {
                    Some(completion) => remote::complete_in(&mut tx, letter, completion, at).await?,
                    None => {
                        let finishing = finishing.ok_or_else(|| Error::Internal("tanpa persiapan naskah akhir".into()))?;
                        self.finalise(&mut tx, &finishing, department, letter, &rev, step, capacity, at)
                            .await?
                    }
                };
                // A correction or amending decree replaces its original in the register too.
                if let Some(original) = letter.corrects {
                    numbering::mark_superseded(&mut tx, &user.actor(), letter.department_id, original, &number, at).await?;
                }
                set_state(&mut tx, letter.id, state::DITANDATANGANI).await?;
                format!("{} nomor {number}", state::DITANDATANGANI)
            }
            Decision::Kembalikan => {
                close_round(&mut tx, letter, at).await?;
                let chain = letter.chain_spec()?;
                start_round(
                    &mut tx,
                    letter.department_id,
                    letter.id,
                    letter.round + 1,
                    &chain,
                    letter.created_by,
                    at,
                )
                .await?;
                sqlx::query("UPDATE letters SET state = $1, round = $2, stage = 0 WHERE id = $3")
                    .bind(state::KONSEP)
                    .bind(letter.round + 1)
                    .bind(letter.id)
                    .execute(&mut *tx)
                    .await?;
                "dikembalikan ke konseptor".into()
            }
            Decision::Tolak => {
                close_round(&mut tx, letter, at).await?;
                set_state(&mut tx, letter.id, state::DITOLAK).await?;
                state::DITOLAK.to_string()
            }
        };
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                match request.decision {
                    Decision::Paraf => "letter.initialled",
                    Decision::TandaTangan => "letter.signed",
                    Decision::Kembalikan => "letter.returned",
                    Decision::Tolak => "letter.rejected",
                },
                letter.id,
                serde_json::json!({
                    "step": step.label,
                    "revision": rev.number,
                    "statement": hash,
                    "key_id": key.info.key_id,
                    "acting_as": capacity.acting_as,
                    "note": request.note.trim(),
                    "outcome": outcome,
                    // Signed knowing that a deadline in it had passed (see check_decision).
                    "deadline_warning_accepted": request.decision == Decision::TandaTangan && request.deadline_warning_accepted,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }
}

/// Signing transactions running at once in this process.
pub(super) static SIGNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

pub(super) fn check_decision(
    letter: &Letter,
    step: &Step,
    capacity: &Capacity,
    request: &DecisionRequest,
    allocates_budget: bool,
    deadlines: &PassedDeadlines,
) -> Result<(), Error> {
    let kind = step.step_kind();
    match request.decision {
        Decision::Paraf if kind == StepKind::TandaTangan => {
            return Err(Error::NotYourTurn("Tahap ini tanda tangan, bukan paraf.".into()));
        }
        Decision::TandaTangan if kind != StepKind::TandaTangan => {
            return Err(Error::NotYourTurn("Tahap ini paraf; tanda tangan menunggu tahap terakhir.".into()));
        }
        Decision::Kembalikan | Decision::Tolak if request.note.trim().is_empty() => {
            return Err(Error::Invalid(FieldErrors::single(
                "note",
                if request.decision == Decision::Kembalikan {
                    "Tuliskan apa yang harus diperbaiki."
                } else {
                    "Tuliskan alasan penolakan."
                },
            )));
        }
        _ => {}
    }
    if request.decision == Decision::TandaTangan && letter.classification_code.trim().is_empty() {
        return Err(Error::Invalid(FieldErrors::single(
            "kode_klasifikasi",
            "Surat ini belum memiliki kode klasifikasi; kembalikan ke konseptor untuk memilihnya.",
        )));
    }
    if request.decision == Decision::TandaTangan
        && letter.document_kind == "keputusan"
        && allocates_budget
        && !capacity.acting_as.is_empty()
        && !request.budget_warning_accepted
    {
        return Err(Error::NeedsConfirmation(format!(
            "Keputusan ini membebankan anggaran dan akan ditandatangani oleh {} {}. \
             Keputusan yang membebankan anggaran sebaiknya tidak ditandatangani Plh./Plt. tanpa pertimbangan hukum. \
             Lanjutkan hanya jika sudah ada pertimbangan tersebut.",
            capacity.acting_as, step.position_title
        )));
    }
    if request.decision == Decision::TandaTangan && !deadlines.passed.is_empty() && !request.deadline_warning_accepted {
        return Err(Error::NeedsConfirmation(letters::deadline::warning(
            &deadlines.passed,
            deadlines.letter_date,
        )));
    }
    Ok(())
}

/// Whether the official's signed statement of `decision` on this revision of the letter
/// is stored: a bulk job that continues after its process stopped asks before deciding
/// a letter again.
pub async fn has_decided(db: &Db, letter_id: i64, revision: i64, decision: Decision, official_id: Option<i64>) -> Result<bool, DbError> {
    let Some(official_id) = official_id else {
        return Ok(false);
    };
    let (count,): (i64,) = sqlx::query_as::<Any, (i64,)>(
        "SELECT COUNT(*) FROM letter_statements WHERE letter_id = $1 AND revision = $2 AND decision = $3 AND official_id = $4",
    )
    .bind(letter_id)
    .bind(revision)
    .bind(decision.key())
    .bind(official_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(count > 0)
}
