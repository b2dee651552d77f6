//! diesel schema of the PostgreSQL/PostGIS backend (migrations/postgres).
//!
//! Written to match `diesel print-schema` output for the migrations (with `Geometry` from
//! postgis_diesel for the geometry columns); keep it in step with them.

diesel::table! {
    use diesel::sql_types::*;
    use postgis_diesel::sql_types::Geometry;

    drafts (id) {
        id -> BigInt,
        created_at -> Timestamptz,
        created_by -> Text,
        base_generation -> Integer,
        covered_streets -> Nullable<Text>,
        report -> Text,
        error_count -> Integer,
        feature_count -> Integer,
        management_units -> Text,
        published_generation -> Nullable<Integer>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use postgis_diesel::sql_types::Geometry;

    draft_features (draft_id, seq) {
        draft_id -> BigInt,
        seq -> Integer,
        code -> Text,
        layer -> Text,
        name -> Text,
        parent -> Nullable<Text>,
        kind -> Nullable<Text>,
        people -> Text,
        attributes -> Text,
        area -> Nullable<Geometry>,
        line -> Nullable<Geometry>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    generations (number) {
        number -> Integer,
        created_at -> Timestamptz,
        created_by -> Text,
        draft_id -> BigInt,
        override_reason -> Nullable<Text>,
        error_count -> Integer,
        changes -> Text,
        management_units -> Text,
        feature_count -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use postgis_diesel::sql_types::Geometry;

    features (id) {
        id -> BigInt,
        code -> Text,
        layer -> Text,
        name -> Text,
        parent -> Nullable<Text>,
        kind -> Nullable<Text>,
        people -> Text,
        attributes -> Text,
        area -> Nullable<Geometry>,
        line -> Nullable<Geometry>,
        valid_from -> Integer,
        valid_to -> Nullable<Integer>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    tokens (id) {
        id -> BigInt,
        role -> Text,
        streets -> Text,
        secret_sha256 -> Text,
        created_at -> Timestamptz,
        revoked -> Bool,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        grids -> Text,
        department -> Nullable<Text>,
        subject -> Nullable<Text>,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        position -> Integer,
        body -> Text,
    }
}

diesel::table! {
    cases (id) {
        id -> BigInt,
        category -> Text,
        source -> Text,
        description -> Text,
        stage -> Text,
        input_lon -> Double,
        input_lat -> Double,
        input_crs -> Text,
        lon -> Double,
        lat -> Double,
        reported_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        due_at -> Timestamptz,
        done_at -> Nullable<Timestamptz>,
        street -> Nullable<Text>,
        grid -> Nullable<Text>,
        block -> Nullable<Text>,
        generation -> Nullable<BigInt>,
        confidence -> Text,
        department -> Nullable<Text>,
        photos -> Text,
        contact -> Nullable<Text>,
        created_by -> Text,
        assignment -> Text,
        track -> Nullable<Text>,
        assigned_grid -> Nullable<Text>,
        supervised -> Bool,
        duplicate_of -> Nullable<BigInt>,
        limits -> Text,
        feedback_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    case_events (case_id, seq) {
        case_id -> BigInt,
        seq -> Integer,
        at -> Timestamptz,
        stage -> Text,
        actor -> Text,
        department -> Nullable<Text>,
        note -> Nullable<Text>,
        action -> Text,
        role -> Text,
        photos -> Text,
        grid -> Nullable<Text>,
        until -> Nullable<Timestamptz>,
        duplicate_of -> Nullable<BigInt>,
        due_at -> Nullable<Timestamptz>,
        on_time -> Nullable<Bool>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        body -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_feedback (case_id) {
        case_id -> BigInt,
        at -> Timestamptz,
        resolved -> Bool,
        satisfaction -> Text,
        comment -> Nullable<Text>,
        via -> Text,
    }
}

diesel::table! {
    case_photos (id) {
        id -> BigInt,
        case_id -> BigInt,
        kind -> Text,
        object_key -> Text,
        thumb_key -> Text,
        content_type -> Text,
        bytes -> BigInt,
        width -> Integer,
        height -> Integer,
        sha256 -> Text,
        taken_at -> Nullable<Text>,
        uploaded_at -> Timestamptz,
        uploaded_by -> Text,
    }
}

diesel::table! {
    case_facts (case_id) {
        case_id -> BigInt,
        reported -> BigInt,
        street -> Nullable<Text>,
        grid -> Nullable<Text>,
        category -> Text,
        department -> Nullable<Text>,
        patrol -> Bool,
        reporter -> Text,
        verifier -> Nullable<Text>,
        resolver -> Nullable<Text>,
        accepted -> Nullable<BigInt>,
        voided -> Nullable<BigInt>,
        verified -> Nullable<BigInt>,
        verify_late -> Nullable<BigInt>,
        opened -> Nullable<BigInt>,
        dispatched -> Nullable<BigInt>,
        front -> Nullable<BigInt>,
        back -> Nullable<BigInt>,
        disposed -> Nullable<BigInt>,
        dispose_late -> Nullable<BigInt>,
        checked -> Nullable<BigInt>,
        reworked -> Nullable<BigInt>,
        returned -> Nullable<BigInt>,
        extended -> Nullable<BigInt>,
        supervised -> Nullable<BigInt>,
        reopened -> Nullable<BigInt>,
        late -> Nullable<BigInt>,
        verdict -> Nullable<BigInt>,
        verdict_flags -> Integer,
        last_event -> BigInt,
        stage -> Text,
        due -> Nullable<BigInt>,
    }
}

diesel::table! {
    reviews (id) {
        id -> BigInt,
        name -> Text,
        period_from -> Timestamptz,
        period_to -> Timestamptz,
        streets -> Text,
        spec -> Text,
        rubric -> Text,
        k -> Integer,
        seed -> BigInt,
        population -> BigInt,
        created_by -> Text,
        created_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    review_cases (review_id, case_id) {
        review_id -> BigInt,
        case_id -> BigInt,
        street -> Text,
        category -> Text,
        grp -> Text,
    }
}

diesel::table! {
    review_assignments (review_id, case_id, reviewer) {
        review_id -> BigInt,
        case_id -> BigInt,
        reviewer -> Text,
        reviewer_street -> Text,
        points -> Nullable<Text>,
        total -> Nullable<Double>,
        comment -> Nullable<Text>,
        scored_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    staff (id) {
        id -> Text,
        name -> Text,
        phone -> Nullable<Text>,
        role -> Text,
        org -> Text,
        org_kind -> Text,
        team -> Nullable<Text>,
        street -> Text,
        areas -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    duty (staff, date, shift) {
        staff -> Text,
        date -> Date,
        shift -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    checkins (id) {
        id -> BigInt,
        staff -> Text,
        t -> Timestamptz,
        punch -> Text,
        lon -> Double,
        lat -> Double,
        accuracy_m -> Nullable<Double>,
        place -> Text,
        distance_m -> Nullable<Double>,
        area -> Nullable<Text>,
        class -> Text,
        shift_date -> Nullable<Date>,
        shift -> Nullable<Text>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use postgis_diesel::sql_types::Geometry;

    tracks (id) {
        id -> BigInt,
        staff -> Text,
        t_from -> Timestamptz,
        t_to -> Timestamptz,
        n -> Integer,
        min_lon -> Double,
        min_lat -> Double,
        max_lon -> Double,
        max_lat -> Double,
        fixes -> Geometry,
        last_lon -> Nullable<Double>,
        last_lat -> Nullable<Double>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use postgis_diesel::sql_types::Geometry;

    components (code) {
        code -> Text,
        class -> Nullable<Text>,
        subclass -> Nullable<Text>,
        owner -> Text,
        maintainer -> Nullable<Text>,
        state -> Text,
        survey_date -> Nullable<Date>,
        attributes -> Text,
        lon -> Double,
        lat -> Double,
        geom -> Geometry,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use postgis_diesel::sql_types::Geometry;

    shops (id) {
        id -> Text,
        name -> Text,
        credit_code -> Nullable<Text>,
        contact -> Nullable<Text>,
        phone -> Nullable<Text>,
        pledge_signed -> Nullable<Date>,
        geom -> Geometry,
        min_lon -> Double,
        min_lat -> Double,
        max_lon -> Double,
        max_lat -> Double,
        frontage_segment -> Nullable<Text>,
        frontage_distance_m -> Nullable<Double>,
        frontage_source -> Nullable<Text>,
        attributes -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    shop_inspections (id) {
        id -> BigInt,
        shop -> Text,
        date -> Date,
        inspector -> Text,
        items -> Text,
        photos -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    shop_points (id) {
        id -> BigInt,
        shop -> Text,
        at -> Timestamptz,
        points -> BigInt,
        reason -> Text,
        inspection_id -> Nullable<BigInt>,
        case_id -> Nullable<BigInt>,
        category -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    idempotency_keys (principal, idem_key) {
        principal -> BigInt,
        idem_key -> Text,
        route -> Text,
        request_sha256 -> Text,
        status -> Integer,
        body -> Text,
        resource_id -> Nullable<BigInt>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(case_feedback -> cases (case_id));
diesel::joinable!(case_facts -> cases (case_id));
diesel::joinable!(case_photos -> cases (case_id));
diesel::joinable!(review_cases -> reviews (review_id));

diesel::joinable!(draft_features -> drafts (draft_id));
diesel::table! {
    /// Each person's newest known position, kept by triggers on `checkins` and `tracks`
    /// (migration 2026-12-15-000001_positions).
    positions (staff) {
        staff -> Text,
        t -> Timestamptz,
        lon -> Nullable<Double>,
        lat -> Nullable<Double>,
        fix -> Bool,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    drafts,
    draft_features,
    generations,
    features,
    tokens,
    categories,
    cases,
    case_events,
    settings,
    case_feedback,
    case_facts,
    case_photos,
    reviews,
    review_cases,
    review_assignments,
    staff,
    duty,
    checkins,
    tracks,
    idempotency_keys,
    components,
    shops,
    shop_inspections,
    shop_points,
    positions
);
