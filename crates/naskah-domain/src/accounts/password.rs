//! Argon2id password hashing, run off the async runtime because it is deliberately slow.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

pub async fn hash_password(password: &str) -> String {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing with default parameters")
            .to_string()
    })
    .await
    .expect("hashing task")
}

pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password, verified against when the user name is unknown,
/// so that the answer takes as long as for a known user.
pub(crate) static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(super::random_token().as_bytes(), &salt)
        .expect("argon2")
        .to_string()
});

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = super::hash_password("kata-sandi-panjang").await;
        assert!(hash.starts_with("$argon2id$"));
        assert!(super::verify_password("kata-sandi-panjang", &hash).await);
        assert!(!super::verify_password("kata-sandi-lain", &hash).await);
        assert!(!super::verify_password("x", "bukan-hash").await);
    }
}
