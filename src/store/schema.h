// The store's schema and its migrations. Version n is reached by applying migrations 1..n in
// order, so a fresh database goes through exactly the path an old one does.
#pragma once

#include "store/sqlite_db.h"

namespace joulebench::store {

// PRAGMA application_id of a joulebench database ("JBEN"), so that another program's SQLite
// file is recognised and left alone.
constexpr int kApplicationId = 0x4A42454E;

int UserVersion(Database& db);
int ApplicationId(Database& db);
// Applies the migrations from the database's version up to `target` in one IMMEDIATE
// transaction (re-reading the version inside it, since another process may have migrated
// meanwhile). Sets application_id.
void MigrateTo(Database& db, int target);

}  // namespace joulebench::store
