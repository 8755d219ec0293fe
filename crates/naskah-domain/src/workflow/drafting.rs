//! Drafting: a letter is created, revised, classified and passed on to its approvers;
//! a signed one is revoked, corrected or amended by a new letter.

use super::*;

impl Workflow {
    pub(super) async fn department(&self, id: i64) -> Result<Department, Error> {
        Ok(departments::get(&self.db, id).await?)
    }

    /// Checks the data (missing fields take the template's defaults) against the
    /// template and renders the draft PDF.
    pub(super) async fn checked_draft(
        &self,
        manifest: &Manifest,
        department: &Department,
        data: &Value,
    ) -> Result<(Value, Vec<u8>), Error> {
        let fields = manifest.validate(&letters::with_defaults(manifest, data)).map_err(Error::Invalid)?;
        let logo = departments::logo(&self.db, department.id).await?;
        let job = letters::job(manifest, &department.letterhead(), logo, &fields, &letters::Slots::default(), None);
        let rendered = letters::parts::render_pdf(&self.renderer, job).await?;
        Ok((fields, rendered.pdf))
    }

    /// A drafter creates a letter from a template: revision 1 and the first round of its
    /// chain, waiting at the drafting stage with the drafter.
    /// A template with a locked field (the SK's beneficiaries) is drafted only by the use
    /// case that fills it from its source (`cases::decree`), never from typed data.
    pub async fn create(&self, user: &User, template_id: &str, data: &Value, note: &str) -> Result<Letter, Error> {
        let manifest = self.catalogue.get(template_id)?;
        if let Some(field) = manifest.fields.iter().find(|f| f.locked) {
            return Err(Error::Invalid(FieldErrors::single(
                &field.name,
                format!(
                    "{} diisi dari sumbernya, tidak diketik: susun naskah ini dari menu Calon penerima (Susun SK dari daftar final).",
                    field.label
                ),
            )));
        }
        self.create_from_source(user, template_id, data, note).await
    }

    /// Creates a letter whose locked fields the caller filled from their source (the
    /// decree use case with the final list; the walkthrough and benchmarks likewise).
    pub async fn create_from_source(&self, user: &User, template_id: &str, data: &Value, note: &str) -> Result<Letter, Error> {
        check_may_draft(user)?;
        let manifest = self.catalogue.get(template_id)?.clone();
        let code = manifest.kode_klasifikasi.clone();
        self.insert_letter(user, user.id, &manifest, data, note, &code, None).await
    }

    /// A new letter: revision 1 by `user`, the chain's first round with the drafting
    /// stage assigned to `drafter_id`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn insert_letter(
        &self,
        user: &User,
        drafter_id: i64,
        manifest: &Manifest,
        data: &Value,
        note: &str,
        classification_code: &str,
        corrects: Option<i64>,
    ) -> Result<Letter, Error> {
        let department = self.department(user.department_id).await?;
        let (fields, pdf) = self.checked_draft(manifest, &department, data).await?;
        let chain = self.chain_for(&department, manifest).await?;
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let draft = NewLetter {
            manifest,
            fields: &fields,
            pdf: &pdf,
            note,
            classification_code,
            corrects,
            batch_id: None,
            recipient_id: None,
        };
        let letter_id = insert_new_letter(&mut tx, department.id, &chain, user, drafter_id, &draft, at).await?;
        tx.commit().await?;
        get(&self.db, department.id, letter_id).await
    }

    /// The department's approval chain for the template's kind, checked.
    pub(super) async fn chain_for(&self, department: &Department, manifest: &Manifest) -> Result<ChainSpec, Error> {
        let chain = chain::for_kind(&self.db, department.id, manifest.kind).await?;
        chain.check().map_err(Error::BadChain)?;
        Ok(chain)
    }

    /// Whether the user may revoke or correct a signed letter (see [`check_withdraw`]).
    pub(super) async fn may_withdraw(&self, user: &User, letter: &Letter) -> Result<(), Error> {
        check_withdraw(user, letter, &steps(&self.db, letter.id).await?)
    }

    /// Revokes a signed letter with a reason; the verification page shows it at once.
    pub async fn revoke(&self, user: &User, letter_id: i64, reason: &str) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        self.may_withdraw(user, &letter).await?;
        let reason = reason.trim();
        if reason.chars().count() < 5 {
            return Err(Error::Invalid(FieldErrors::single("alasan", "Tuliskan alasan pencabutan.")));
        }
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let done = sqlx::query("UPDATE letters SET revoked_at = $1, revoked_reason = $2, revoked_by = $3, version = version + 1 WHERE id = $4 AND revoked_at IS NULL")
            .bind(at)
            .bind(reason)
            .bind(user.actor().label())
            .bind(letter.id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(Error::Conflict("Surat ini sudah dicabut.".into()));
        }
        // The register line follows in the same transaction: agenda, its exports and the
        // public page never disagree.
        numbering::mark_revoked(&mut tx, &user.actor(), letter.department_id, letter.id, reason, at).await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.revoked",
                letter.id,
                serde_json::json!({ "reason": reason }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// Starts a correction (ralat) of a signed letter: a new letter of the same template
    /// with the signed data, back with the original drafter. Once the correction is
    /// signed, the original shows as replaced (DIGANTI) with a link to it.
    pub async fn start_correction(&self, user: &User, letter_id: i64) -> Result<Letter, Error> {
        self.start_replacement(user, letter_id, None, "ralat").await
    }

    /// An amending decree (keputusan perubahan): like a correction, it replaces the
    /// signed decree once signed, but starts from new data (e.g. the final list after
    /// beneficiaries were replaced) rather than the signed data.
    pub async fn start_amendment(&self, user: &User, letter_id: i64, data: &Value) -> Result<Letter, Error> {
        self.start_replacement(user, letter_id, Some(data), "perubahan").await
    }

    pub(super) async fn start_replacement(
        &self,
        user: &User,
        letter_id: i64,
        new_data: Option<&Value>,
        kind: &str,
    ) -> Result<Letter, Error> {
        let original = get(&self.db, user.department_id, letter_id).await?;
        match new_data {
            // A correction repeats the signed text: its signer (or an administrator) decides.
            None => self.may_withdraw(user, &original).await?,
            // An amendment is a new decree drafted by the drafter and signed through the chain.
            Some(_) if !user.has(Role::Drafter) => {
                return Err(Error::Forbidden("Hanya konseptor yang dapat menyusun keputusan perubahan.".into()));
            }
            Some(_) if original.number.is_none() || original.revoked_at.is_some() => {
                return Err(Error::Conflict(
                    "Hanya keputusan yang sudah ditandatangani dan berlaku yang dapat diubah.".into(),
                ));
            }
            Some(_) => {}
        }
        let pending: Option<(i64,)> =
            sqlx::query_as::<Any, (i64,)>("SELECT id FROM letters WHERE corrects = $1 AND state IN ($2, $3) LIMIT 1")
                .bind(original.id)
                .bind(state::KONSEP)
                .bind(state::PROSES)
                .fetch_optional(&self.db.pool)
                .await?;
        if let Some((id,)) = pending {
            return Err(Error::Conflict(format!(
                "Ralat atau perubahan surat ini sudah dibuat dan sedang diproses (surat {id})."
            )));
        }
        let manifest = self.catalogue.get(&original.template_id)?.clone();
        let data = match new_data {
            Some(data) => data.clone(),
            None => revision(&self.db, original.id, original.revision).await?.fields(),
        };
        let number = original.number.clone().unwrap_or_default();
        self.insert_letter(
            user,
            original.created_by,
            &manifest,
            &data,
            &format!("{kind} atas surat nomor {number}"),
            &original.classification_code,
            Some(original.id),
        )
        .await
    }

    /// Saves new data as the next revision. Allowed at the drafting and typing stages, to
    /// the holder of the stage; `expected_version` is the version the editor started from.
    pub async fn revise(&self, user: &User, letter_id: i64, expected_version: i64, data: &Value, note: &str) -> Result<Letter, Error> {
        self.revise_checked(user, letter_id, expected_version, data, note, false).await
    }

    /// Saves what was typed as a new revision when it differs from the last one, then
    /// passes the letter on: one action, so an edit is never forwarded unsaved. If the
    /// save is refused nothing is passed on; if passing on is refused the revision stays.
    pub async fn save_and_submit(
        &self,
        user: &User,
        letter_id: i64,
        expected_version: i64,
        data: &Value,
        note: &str,
    ) -> Result<Letter, Error> {
        let saved = self.revise_checked(user, letter_id, expected_version, data, note, true).await?;
        self.submit(user, saved.id, saved.version).await
    }

    async fn revise_checked(
        &self,
        user: &User,
        letter_id: i64,
        expected_version: i64,
        data: &Value,
        note: &str,
        unchanged_ok: bool,
    ) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let step = self.drafting_step_of(user, &letter).await?;
        let manifest = self.catalogue.get(&letter.template_id)?.clone();
        let department = self.department(user.department_id).await?;
        let current = revision(&self.db, letter.id, letter.revision).await?;
        let data = keep_locked(&manifest, data, &current.fields())?;
        let (fields, pdf) = self.checked_draft(&manifest, &department, &data).await?;
        if canonical_data(&fields) == current.data {
            if unchanged_ok {
                // Nothing to save: passing on claims the version the user saw.
                return Ok(Letter {
                    version: expected_version,
                    ..letter
                });
            }
            return Err(Error::Invalid(FieldErrors::single(
                "_",
                "Tidak ada perubahan dibanding revisi terakhir.",
            )));
        }
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, &letter, expected_version, at).await?;
        let number = letter.revision + 1;
        sqlx::query("UPDATE letters SET revision = $1, subject = $2 WHERE id = $3")
            .bind(number)
            .bind(subject_of(&manifest, &fields))
            .bind(letter.id)
            .execute(&mut *tx)
            .await?;
        insert_revision(&mut tx, letter.id, number, &fields, &pdf, user.id, note, at).await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.revised",
                letter.id,
                serde_json::json!({ "revision": number, "stage": step.label, "note": note }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// The drafting or typing step the user holds on this letter, or why not.
    pub(super) async fn drafting_step_of(&self, user: &User, letter: &Letter) -> Result<Step, Error> {
        if letter.state != state::KONSEP {
            return Err(Error::NotYourTurn(format!(
                "Surat ini {} dan tidak dapat diubah; perbaikan hanya setelah dikembalikan.",
                letter.state_label().to_lowercase()
            )));
        }
        let steps = current_steps(&self.db, letter).await?;
        steps
            .into_iter()
            .find(|s| s.state == step_state::AKTIF && may_hold_drafting_step(user, s))
            .ok_or_else(|| Error::NotYourTurn("Surat ini sedang tidak menunggu Anda.".into()))
    }

    /// Chooses the letter's classification code from the department's list; while
    /// drafting or typing, by the holder of the stage.
    pub async fn set_classification(&self, user: &User, letter_id: i64, expected_version: i64, code: &str) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        self.drafting_step_of(user, &letter).await?;
        let code = code.trim();
        if !numbering::codes(&self.db, user.department_id).await?.iter().any(|c| c.code == code) {
            return Err(Error::Invalid(FieldErrors::single(
                "kode_klasifikasi",
                "Pilih kode klasifikasi dari daftar dinas.",
            )));
        }
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, &letter, expected_version, at).await?;
        sqlx::query("UPDATE letters SET classification_code = $1 WHERE id = $2")
            .bind(code)
            .bind(letter.id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.classified",
                letter.id,
                serde_json::json!({ "from": letter.classification_code, "to": code }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }

    /// Finishes the drafting or typing stage and passes the letter on.
    pub async fn submit(&self, user: &User, letter_id: i64, expected_version: i64) -> Result<Letter, Error> {
        let letter = get(&self.db, user.department_id, letter_id).await?;
        let step = self.drafting_step_of(user, &letter).await?;
        self.check_next_signer(&letter).await?;
        let at = now();
        let mut tx = self.db.begin_write().await?;
        claim(&mut tx, &letter, expected_version, at).await?;
        complete_step(&mut tx, step.id, user.id, user.official_id, "", "teruskan", "", at).await?;
        let next = advance(&mut tx, &letter, at).await?;
        audit::record(
            &mut tx,
            audit_event(
                letter.department_id,
                &user.actor(),
                "letter.submitted",
                letter.id,
                serde_json::json!({ "from": step.label, "to": next }),
            ),
        )
        .await?;
        tx.commit().await?;
        get(&self.db, letter.department_id, letter.id).await
    }
}

/// Whether the user may revoke or correct a signed letter: its signer, or an
/// administrator.
pub fn check_withdraw(user: &User, letter: &Letter, steps: &[Step]) -> Result<(), Error> {
    if letter.state != state::DITANDATANGANI {
        return Err(Error::NotYourTurn(
            "Hanya surat yang sudah ditandatangani yang dapat dicabut atau diralat.".into(),
        ));
    }
    let signer = signature_step(steps, letter).and_then(|s| s.acted_by_official);
    if user.has(Role::Administrator) || (signer.is_some() && signer == user.official_id) {
        return Ok(());
    }
    Err(Error::Forbidden(
        "Hanya penandatangan surat ini atau administrator yang dapat mencabut atau meralatnya.".into(),
    ))
}

/// Who starts a draft, alone or for every village of a batch: a drafter (konseptor).
pub fn check_may_draft(user: &User) -> Result<(), Error> {
    if user.has(Role::Drafter) {
        Ok(())
    } else {
        Err(Error::Forbidden("Hanya konseptor yang dapat membuat konsep surat.".into()))
    }
}

/// Who holds a drafting step (konsep: its drafter; ketik: any typist, or the user it
/// was assigned to): the one rule the domain, the letter page and the inbox share.
pub fn may_hold_drafting_step(user: &User, step: &Step) -> bool {
    match step.step_kind() {
        StepKind::Konsep => step.assignee_user_id == Some(user.id) && user.has(Role::Drafter),
        StepKind::Ketik => user.has(Role::Typist) || step.assignee_user_id == Some(user.id),
        _ => false,
    }
}

/// Locked fields keep the current revision's value: a revision that leaves one out
/// keeps it, one that sends the same value passes, one that changes it is refused by name.
fn keep_locked(manifest: &Manifest, data: &Value, current: &Value) -> Result<Value, Error> {
    let mut data = data.clone();
    for field in manifest.fields.iter().filter(|f| f.locked) {
        let stored = current.get(&field.name).cloned().unwrap_or(Value::Null);
        if data.get(&field.name).is_some_and(|sent| *sent != stored) {
            return Err(Error::Invalid(FieldErrors::single(
                &field.name,
                format!(
                    "{} tidak dapat diubah dalam konsep: isinya diambil dari sumbernya. Untuk mengubah daftar yang sudah ditetapkan, buat SK perubahan.",
                    field.label
                ),
            )));
        }
        if let Some(object) = data.as_object_mut() {
            object.insert(field.name.clone(), stored);
        }
    }
    Ok(data)
}
