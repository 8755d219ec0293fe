//! Accounts: users of a department, their roles, passwords (Argon2id), login sessions
//! with CSRF tokens, throttling of failed logins, and hashed API bearer tokens.

pub mod password;
mod sessions;
mod throttle;
mod tokens;

use serde::{Deserialize, Serialize};
use sqlx::{Any, FromRow};

use crate::{
    audit::{self, Actor, Event},
    db::{Db, DbError},
    validation::{FieldErrors, clean},
};

pub use password::{hash_password, verify_password};
pub use sessions::{LoginError, Session, end_session, login, session_user, touch_session};
pub(crate) use throttle::{
    Counter, Reservation, fail as fail_attempt, release as release_attempt, reserve as reserve_attempt, standing as throttle_standing,
};
pub use tokens::{ApiToken, NewToken, create_token, list_tokens, revoke_token, token_user};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("data tidak valid: {0}")]
    Invalid(FieldErrors),
    #[error("tidak ditemukan")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("kata sandi saat ini salah")]
    WrongPassword,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(DbError::Sqlx(e))
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Invalid(e)
    }
}

/// What a user may do. Stored by the English key; shown by the Indonesian label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Konseptor: drafts letters.
    Drafter,
    /// Staf pengetik: types and edits drafts.
    Typist,
    /// Pemaraf: initials (paraf) letters in the chain.
    Approver,
    /// Penandatangan: signs letters.
    Signer,
    /// Agendaris: numbers and distributes letters, registers incoming ones.
    Agendaris,
    /// Administrator of the department: letterhead, organisation, users.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Drafter,
        Role::Typist,
        Role::Approver,
        Role::Signer,
        Role::Agendaris,
        Role::Administrator,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Drafter => "drafter",
            Role::Typist => "typist",
            Role::Approver => "approver",
            Role::Signer => "signer",
            Role::Agendaris => "agendaris",
            Role::Administrator => "administrator",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Drafter => "Konseptor",
            Role::Typist => "Pengetik (Staf)",
            Role::Approver => "Pemaraf",
            Role::Signer => "Penandatangan",
            Role::Agendaris => "Agendaris",
            Role::Administrator => "Administrator",
        }
    }

    pub fn parse(key: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }
}

#[derive(Debug, Clone, FromRow)]
struct UserRow {
    id: i64,
    department_id: i64,
    username: String,
    display_name: String,
    email: String,
    official_id: Option<i64>,
    active: i64,
    must_change_password: i64,
    created_at: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct User {
    pub id: i64,
    pub department_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub official_id: Option<i64>,
    pub active: bool,
    pub must_change_password: bool,
    pub roles: Vec<Role>,
    pub created_at: i64,
}

impl User {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub official_id: Option<i64>,
    pub active: Option<bool>,
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// Password rules: long enough, not the user name, not a run of one character.
pub fn check_new_password(username: &str, password: &str) -> Result<(), FieldErrors> {
    let len = password.chars().count();
    let msg = if len < MIN_PASSWORD_LEN {
        Some(format!("Kata sandi minimal {MIN_PASSWORD_LEN} karakter."))
    } else if len > 200 {
        Some("Kata sandi paling panjang 200 karakter.".into())
    } else if password.to_lowercase().contains(&username.to_lowercase()) && !username.is_empty() {
        Some("Kata sandi tidak boleh memuat nama pengguna.".into())
    } else if password.chars().all(|c| password.starts_with(c)) {
        Some("Kata sandi terlalu mudah ditebak.".into())
    } else {
        None
    };
    match msg {
        Some(m) => Err(FieldErrors::single("password", m)),
        None => Ok(()),
    }
}

impl UserInput {
    fn validated(mut self) -> Result<Self, FieldErrors> {
        self.username = self.username.trim().to_lowercase();
        self.display_name = clean(&self.display_name);
        self.email = self.email.trim().to_string();
        self.roles.sort();
        self.roles.dedup();
        let mut e = FieldErrors::default();
        if !(3..=40).contains(&self.username.len())
            || !self
                .username
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            e.add(
                "username",
                "Nama pengguna 3–40 karakter: huruf kecil, angka, titik, garis bawah atau minus.",
            );
        }
        e.required("display_name", "Nama lengkap", &self.display_name, 150);
        e.optional_email("email", &self.email);
        e.into_result().map(|_| self)
    }
}

const USER_COLUMNS: &str = "id, department_id, username, display_name, email, official_id, active, must_change_password, created_at";
const USERNAME_TAKEN: &str = "Nama pengguna itu sudah dipakai.";

async fn roles_of(db: &Db, user_id: i64) -> Result<Vec<Role>, Error> {
    let rows: Vec<(String,)> = sqlx::query_as::<Any, (String,)>("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|(r,)| Role::parse(r)).collect();
    roles.sort();
    Ok(roles)
}

async fn with_roles(db: &Db, row: UserRow) -> Result<User, Error> {
    let roles = roles_of(db, row.id).await?;
    Ok(User {
        id: row.id,
        department_id: row.department_id,
        username: row.username,
        display_name: row.display_name,
        email: row.email,
        official_id: row.official_id,
        active: row.active != 0,
        must_change_password: row.must_change_password != 0,
        roles,
        created_at: row.created_at,
    })
}

pub async fn get(db: &Db, id: i64) -> Result<User, Error> {
    let row = sqlx::query_as::<Any, UserRow>(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?;
    with_roles(db, row).await
}

/// A user of the given department (any other department's user is "not found").
pub async fn get_in(db: &Db, department_id: i64, id: i64) -> Result<User, Error> {
    let user = get(db, id).await?;
    if user.department_id != department_id {
        return Err(Error::NotFound);
    }
    Ok(user)
}

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<User>, Error> {
    let row = sqlx::query_as::<Any, UserRow>(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1")))
        .bind(username.trim().to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => Ok(Some(with_roles(db, row).await?)),
        None => Ok(None),
    }
}

pub async fn list(db: &Db, department_id: i64) -> Result<Vec<User>, Error> {
    let rows = sqlx::query_as::<Any, UserRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE department_id = $1 ORDER BY display_name"
    )))
    .bind(department_id)
    .fetch_all(&db.pool)
    .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        users.push(with_roles(db, row).await?);
    }
    Ok(users)
}

async fn check_official(db: &Db, department_id: i64, official_id: Option<i64>) -> Result<(), Error> {
    if let Some(id) = official_id {
        crate::departments::get_official(db, department_id, id)
            .await
            .map_err(|_| Error::Invalid(FieldErrors::single("official_id", "Pejabat tidak ditemukan di dinas ini.")))?;
    }
    Ok(())
}

async fn write_roles(conn: &mut sqlx::AnyConnection, user_id: i64, roles: &[Role]) -> Result<(), Error> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(role.key())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Creates a user with the given initial password.
pub async fn create(
    db: &Db,
    actor: &Actor,
    department_id: i64,
    input: UserInput,
    password: &str,
    must_change: bool,
) -> Result<User, Error> {
    let input = input.validated()?;
    check_new_password(&input.username, password)?;
    check_official(db, department_id, input.official_id).await?;
    let hash = hash_password(password).await;
    let mut tx = db.begin_write().await?;
    let now = crate::db::now();
    let (id,) = sqlx::query_as::<Any, (i64,)>(
        "INSERT INTO users (department_id, username, display_name, email, password_hash, official_id, active, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(department_id)
    .bind(&input.username)
    .bind(&input.display_name)
    .bind(&input.email)
    .bind(&hash)
    .bind(input.official_id)
    .bind(i64::from(input.active.unwrap_or(true)))
    .bind(i64::from(must_change))
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict(e, "users.official_id", USERNAME_TAKEN))?;
    write_roles(&mut tx, id, &input.roles).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "user.create",
            subject: format!("user:{id}"),
            details: serde_json::json!({ "username": input.username, "roles": input.roles, "official_id": input.official_id }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// Tells a taken official link apart from a taken user name.
fn conflict(e: sqlx::Error, official_marker: &str, default: &str) -> Error {
    let text = e.to_string();
    let e = DbError::Sqlx(e);
    if !e.is_unique_violation() {
        return Error::Db(e);
    }
    if text.contains(official_marker) || text.contains("official_id") {
        Error::Conflict("Pejabat itu sudah terhubung dengan akun lain.".into())
    } else {
        Error::Conflict(default.into())
    }
}

pub async fn update(db: &Db, actor: &Actor, department_id: i64, id: i64, input: UserInput) -> Result<User, Error> {
    let input = input.validated()?;
    let before = get_in(db, department_id, id).await?;
    check_official(db, department_id, input.official_id).await?;
    let active = input.active.unwrap_or(before.active);
    let mut tx = db.begin_write().await?;
    // An administrator must not lock the department out of its own settings.
    if before.has(Role::Administrator) && (!input.roles.contains(&Role::Administrator) || !active) {
        let (admins,) = sqlx::query_as::<Any, (i64,)>(
            "SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id \
             WHERE u.department_id = $1 AND u.active = 1 AND r.role = 'administrator' AND u.id <> $2",
        )
        .bind(department_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if admins == 0 {
            return Err(Error::Conflict(
                "Dinas harus tetap memiliki sekurang-kurangnya satu administrator aktif.".into(),
            ));
        }
    }
    sqlx::query(
        "UPDATE users SET username = $1, display_name = $2, email = $3, official_id = $4, active = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(&input.username)
    .bind(&input.display_name)
    .bind(&input.email)
    .bind(input.official_id)
    .bind(i64::from(active))
    .bind(crate::db::now())
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(|e| conflict(e, "users.official_id", USERNAME_TAKEN))?;
    write_roles(&mut tx, id, &input.roles).await?;
    if !active {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tokens::end_all(&mut tx, id).await?;
    }
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "user.update",
            subject: format!("user:{id}"),
            details: serde_json::json!({ "username": input.username, "roles": input.roles, "active": active, "official_id": input.official_id }),
        },
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// Sets a new password chosen by an administrator (the user must change it at next login)
/// or by the user; ends the user's other sessions and every API token.
pub async fn set_password(
    db: &Db,
    actor: &Actor,
    user: &User,
    password: &str,
    must_change: bool,
    keep_session: Option<&str>,
) -> Result<(), Error> {
    check_new_password(&user.username, password)?;
    let hash = hash_password(password).await;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
        .bind(&hash)
        .bind(i64::from(must_change))
        .bind(crate::db::now())
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let keep = keep_session.map(sessions::hash_token).unwrap_or_default();
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user.id)
        .bind(&keep)
        .execute(&mut *tx)
        .await?;
    let tokens_ended = tokens::end_all(&mut tx, user.id).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(user.department_id),
            actor,
            action: if must_change {
                "user.password_reset"
            } else {
                "user.password_change"
            },
            subject: format!("user:{}", user.id),
            details: serde_json::json!({ "api_tokens_ended": tokens_ended }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes one's own password after checking the current one.
pub async fn change_own_password(db: &Db, user: &User, current: &str, new: &str, session_token: Option<&str>) -> Result<(), Error> {
    let (hash,) = sqlx::query_as::<Any, (String,)>("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(&db.pool)
        .await?;
    if !verify_password(current, &hash).await {
        return Err(Error::WrongPassword);
    }
    if current == new {
        return Err(FieldErrors::single("password", "Kata sandi baru harus berbeda dari yang lama.").into());
    }
    set_password(db, &user.actor(), user, new, false, session_token).await
}

/// A random password for new and reset accounts: 16 characters without look-alikes.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
