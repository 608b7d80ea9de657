CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);

CREATE TABLE "Agents" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_Agents" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "ManagedByConfiguration" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL
);

CREATE TABLE "AuditEntries" (
    "Sequence" INTEGER NOT NULL CONSTRAINT "PK_AuditEntries" PRIMARY KEY AUTOINCREMENT,
    "Timestamp" INTEGER NOT NULL,
    "Kind" TEXT NOT NULL,
    "Actor" TEXT NOT NULL,
    "Server" TEXT NULL,
    "Tool" TEXT NULL,
    "Decision" TEXT NOT NULL,
    "Outcome" TEXT NOT NULL,
    "DurationMs" REAL NOT NULL,
    "Error" TEXT NULL,
    "ArgumentsSha256" TEXT NULL,
    "PreviousHash" TEXT NULL,
    "Hash" TEXT NULL
);

CREATE TABLE "Servers" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_Servers" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Transport" TEXT NOT NULL,
    "Command" TEXT NULL,
    "ArgsJson" TEXT NOT NULL,
    "EnvJson" TEXT NOT NULL,
    "WorkingDirectory" TEXT NULL,
    "Url" TEXT NULL,
    "HeadersJson" TEXT NOT NULL,
    "ToolPrefix" TEXT NULL,
    "Enabled" INTEGER NOT NULL,
    "ManagedByConfiguration" INTEGER NOT NULL,
    "ConnectTimeoutMs" INTEGER NOT NULL,
    "CallTimeoutMs" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL
);

CREATE TABLE "AgentGrants" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AgentGrants" PRIMARY KEY AUTOINCREMENT,
    "AgentId" INTEGER NOT NULL,
    "Position" INTEGER NOT NULL,
    "Pattern" TEXT NOT NULL,
    CONSTRAINT "FK_AgentGrants_Agents_AgentId" FOREIGN KEY ("AgentId") REFERENCES "Agents" ("Id") ON DELETE CASCADE
);

CREATE TABLE "AgentKeys" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AgentKeys" PRIMARY KEY AUTOINCREMENT,
    "AgentId" INTEGER NOT NULL,
    "KeyHash" TEXT NOT NULL,
    "Hint" TEXT NOT NULL,
    "Source" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "RevokedAt" TEXT NULL,
    CONSTRAINT "FK_AgentKeys_Agents_AgentId" FOREIGN KEY ("AgentId") REFERENCES "Agents" ("Id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_AgentGrants_AgentId_Position" ON "AgentGrants" ("AgentId", "Position");

CREATE INDEX "IX_AgentKeys_AgentId" ON "AgentKeys" ("AgentId");

CREATE UNIQUE INDEX "IX_AgentKeys_KeyHash" ON "AgentKeys" ("KeyHash");

CREATE UNIQUE INDEX "IX_Agents_Name" ON "Agents" ("Name");

CREATE INDEX "IX_AuditEntries_Actor_Sequence" ON "AuditEntries" ("Actor", "Sequence");

CREATE INDEX "IX_AuditEntries_Server_Sequence" ON "AuditEntries" ("Server", "Sequence");

CREATE INDEX "IX_AuditEntries_Timestamp" ON "AuditEntries" ("Timestamp");

CREATE UNIQUE INDEX "IX_Servers_Name" ON "Servers" ("Name");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124061244_Initial', '10.0.15');

ALTER TABLE "AuditEntries" ADD "Rule" TEXT NULL;

ALTER TABLE "Agents" ADD "TagsJson" TEXT NOT NULL DEFAULT '';

CREATE TABLE "PolicyRules" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_PolicyRules" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Json" TEXT NOT NULL,
    "ManagedByConfiguration" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL
);

CREATE TABLE "ToolClassOverrides" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ToolClassOverrides" PRIMARY KEY AUTOINCREMENT,
    "Server" TEXT NOT NULL,
    "Tool" TEXT NOT NULL,
    "Class" TEXT NOT NULL
);

CREATE UNIQUE INDEX "IX_PolicyRules_Name" ON "PolicyRules" ("Name");

CREATE UNIQUE INDEX "IX_ToolClassOverrides_Server_Tool" ON "ToolClassOverrides" ("Server", "Tool");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124072137_PoliciesAndClasses', '10.0.15');

CREATE TABLE "Approvals" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Approvals" PRIMARY KEY,
    "AgentId" INTEGER NOT NULL,
    "Agent" TEXT NOT NULL,
    "Server" TEXT NOT NULL,
    "Tool" TEXT NOT NULL,
    "ToolDefinitionSha256" TEXT NOT NULL,
    "ArgumentsJson" TEXT NOT NULL,
    "ArgumentsSha256" TEXT NOT NULL,
    "Rule" TEXT NULL,
    "Reason" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "Status" TEXT NOT NULL,
    "DecidedBy" TEXT NULL,
    "DecidedAt" TEXT NULL,
    "DecisionReason" TEXT NULL
);

CREATE INDEX "IX_Approvals_AgentId_Server_Tool_ArgumentsSha256_Status" ON "Approvals" ("AgentId", "Server", "Tool", "ArgumentsSha256", "Status");

CREATE INDEX "IX_Approvals_Status_CreatedAt" ON "Approvals" ("Status", "CreatedAt");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124073037_Approvals', '10.0.15');

ALTER TABLE "Agents" ADD "Owner" TEXT NULL;

CREATE TABLE "ConsoleUsers" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ConsoleUsers" PRIMARY KEY AUTOINCREMENT,
    "UserName" TEXT NOT NULL,
    "DisplayName" TEXT NOT NULL,
    "Source" TEXT NOT NULL,
    "AssignedRoles" TEXT NOT NULL,
    "ProviderRoles" TEXT NOT NULL,
    "PasswordHash" TEXT NULL,
    "MustChangePassword" INTEGER NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "LastSignInAt" TEXT NULL
);

CREATE UNIQUE INDEX "IX_ConsoleUsers_UserName" ON "ConsoleUsers" ("UserName");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124085713_ConsoleUsers', '10.0.15');

ALTER TABLE "Servers" ADD "CredentialCiphertext" TEXT NULL;

ALTER TABLE "Servers" ADD "CredentialKind" TEXT NULL;

ALTER TABLE "Servers" ADD "CredentialRotatedAt" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124085932_UpstreamCredentials', '10.0.15');

ALTER TABLE "AuditEntries" ADD "ArgumentsRedacted" TEXT NULL;

ALTER TABLE "AuditEntries" ADD "CallId" TEXT NULL;

CREATE TABLE "AuditCheckpoints" (
    "Sequence" INTEGER NOT NULL CONSTRAINT "PK_AuditCheckpoints" PRIMARY KEY,
    "Hash" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "KeyId" TEXT NOT NULL,
    "Signature" TEXT NOT NULL
);

CREATE INDEX "IX_AuditEntries_CallId" ON "AuditEntries" ("CallId");

CREATE TRIGGER AuditEntries_NoUpdate BEFORE UPDATE ON AuditEntries BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only'); END;

CREATE TRIGGER AuditEntries_NoDelete BEFORE DELETE ON AuditEntries BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only'); END;

CREATE TRIGGER AuditCheckpoints_NoUpdate BEFORE UPDATE ON AuditCheckpoints BEGIN SELECT RAISE(ABORT, 'AuditCheckpoints is append-only'); END;

CREATE TRIGGER AuditCheckpoints_NoDelete BEFORE DELETE ON AuditCheckpoints BEGIN SELECT RAISE(ABORT, 'AuditCheckpoints is append-only'); END;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124090420_AuditChain', '10.0.15');

CREATE INDEX "IX_AuditEntries_Decision_Sequence" ON "AuditEntries" ("Decision", "Sequence");

CREATE INDEX "IX_AuditEntries_Outcome_Sequence" ON "AuditEntries" ("Outcome", "Sequence");

CREATE INDEX "IX_AuditEntries_Tool_Sequence" ON "AuditEntries" ("Tool", "Sequence");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124091450_AuditBrowseIndexes', '10.0.15');

CREATE TABLE "ToolPins" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ToolPins" PRIMARY KEY AUTOINCREMENT,
    "Server" TEXT NOT NULL,
    "Tool" TEXT NOT NULL,
    "DefinitionSha256" TEXT NOT NULL,
    "PinnedAt" TEXT NOT NULL,
    "PinnedBy" TEXT NOT NULL
);

CREATE UNIQUE INDEX "IX_ToolPins_Server_Tool" ON "ToolPins" ("Server", "Tool");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124093747_ToolPins', '10.0.15');

ALTER TABLE "AuditEntries" ADD "ResultSha256" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261124095206_AuditResultHash', '10.0.15');

DROP INDEX "IX_AuditEntries_Decision_Sequence";

DROP INDEX "IX_AuditEntries_Outcome_Sequence";

CREATE INDEX "IX_AuditEntries_Decision_Sequence" ON "AuditEntries" ("Decision", "Sequence") WHERE Decision <> 'allow';

CREATE INDEX "IX_AuditEntries_Outcome_Sequence" ON "AuditEntries" ("Outcome", "Sequence") WHERE Outcome NOT IN ('ok', 'started');

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130155421_AuditPartialIndexes', '10.0.15');

CREATE TABLE "McpSessions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_McpSessions" PRIMARY KEY,
    "AgentId" INTEGER NOT NULL,
    "KeyHash" TEXT NOT NULL,
    "InitializeJson" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL
);

CREATE INDEX "IX_McpSessions_CreatedAt" ON "McpSessions" ("CreatedAt");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130173825_McpSessions', '10.0.15');

ALTER TABLE "ToolPins" ADD "Definition" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130200211_ToolPinDefinitionText', '10.0.15');

ALTER TABLE "Servers" ADD "MaxResultBytes" INTEGER NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130200345_ServerMaxResultBytes', '10.0.15');

ALTER TABLE "Servers" ADD "GuardSecrets" TEXT NOT NULL DEFAULT 'redact';

ALTER TABLE "Servers" ADD "GuardUnicode" TEXT NOT NULL DEFAULT 'strip';

ALTER TABLE "Servers" ADD "LabelsJson" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "AuditEntries" ADD "Findings" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130200724_GuardrailsFindingsAndServerGuard', '10.0.15');

ALTER TABLE "Agents" ADD "LimitDailyQuota" INTEGER NULL;

ALTER TABLE "Agents" ADD "LimitMaxConcurrent" INTEGER NULL;

ALTER TABLE "Agents" ADD "LimitRequestsPerMinute" INTEGER NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130200847_AgentLimitColumns', '10.0.15');

ALTER TABLE "Servers" ADD "SecretValuesCiphertext" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130201106_ServerSecretValuesCiphertext', '10.0.15');

CREATE TABLE "ToolRejections" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ToolRejections" PRIMARY KEY AUTOINCREMENT,
    "Server" TEXT NOT NULL,
    "Tool" TEXT NOT NULL,
    "DefinitionSha256" TEXT NOT NULL,
    "RejectedAt" TEXT NOT NULL,
    "RejectedBy" TEXT NOT NULL
);

CREATE UNIQUE INDEX "IX_ToolRejections_Server_Tool" ON "ToolRejections" ("Server", "Tool");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261201100954_ToolRejections', '10.0.15');

CREATE TABLE "SingleUseMarks" (
    "Key" TEXT NOT NULL CONSTRAINT "PK_SingleUseMarks" PRIMARY KEY,
    "ExpiresAtMs" INTEGER NOT NULL
);

CREATE TABLE "ToolLimitRules" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ToolLimitRules" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Match" TEXT NOT NULL,
    "RequestsPerMinute" INTEGER NOT NULL,
    "MaxConcurrent" INTEGER NOT NULL,
    "DailyQuota" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL
);

CREATE TABLE "UsageCounters" (
    "AgentId" INTEGER NOT NULL,
    "Rule" TEXT NOT NULL,
    "Span" INTEGER NOT NULL,
    "WindowStart" INTEGER NOT NULL,
    "Count" INTEGER NOT NULL,
    CONSTRAINT "PK_UsageCounters" PRIMARY KEY ("AgentId", "Rule", "Span", "WindowStart")
);

CREATE INDEX "IX_SingleUseMarks_ExpiresAtMs" ON "SingleUseMarks" ("ExpiresAtMs");

CREATE UNIQUE INDEX "IX_ToolLimitRules_Name" ON "ToolLimitRules" ("Name");

CREATE INDEX "IX_UsageCounters_WindowStart" ON "UsageCounters" ("WindowStart");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261201110943_UsageCountersToolLimitRulesAndSingleUseMarks', '10.0.15');

ALTER TABLE "McpSessions" ADD "Holders" TEXT NOT NULL DEFAULT '';

CREATE TABLE "InstanceMessages" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_InstanceMessages" PRIMARY KEY AUTOINCREMENT,
    "Instance" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "SessionId" TEXT NOT NULL,
    "Payload" TEXT NOT NULL,
    "ExpiresAtMs" INTEGER NOT NULL
);

CREATE TABLE "SiemCursors" (
    "Sink" TEXT NOT NULL CONSTRAINT "PK_SiemCursors" PRIMARY KEY,
    "Sequence" INTEGER NOT NULL,
    "LeaseOwner" TEXT NULL,
    "LeaseUntil" INTEGER NOT NULL,
    "LastSuccessAt" INTEGER NOT NULL,
    "LastError" TEXT NULL,
    "LastErrorAt" INTEGER NOT NULL
);

CREATE TABLE "VirtualServers" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_VirtualServers" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Title" TEXT NULL,
    "Description" TEXT NULL,
    "Discovery" TEXT NOT NULL,
    "Tools" TEXT NOT NULL,
    "Agents" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL
);

CREATE INDEX "IX_InstanceMessages_ExpiresAtMs" ON "InstanceMessages" ("ExpiresAtMs");

CREATE INDEX "IX_InstanceMessages_Instance_Id" ON "InstanceMessages" ("Instance", "Id");

CREATE UNIQUE INDEX "IX_VirtualServers_Name" ON "VirtualServers" ("Name");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261201141534_MailboxSessionHoldersSiemCursorsVirtualServers', '10.0.15');

ALTER TABLE "VirtualServers" ADD "Prompts" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "VirtualServers" ADD "Resources" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "SiemCursors" ADD "CheckpointSequence" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "Servers" ADD "CredentialMode" TEXT NOT NULL DEFAULT 'shared';

ALTER TABLE "Servers" ADD "ExchangeAudience" TEXT NULL;

ALTER TABLE "Servers" ADD "ExchangeResource" TEXT NULL;

ALTER TABLE "McpSessions" ADD "VirtualServer" TEXT NULL;

ALTER TABLE "Agents" ADD "ToolSearch" INTEGER NOT NULL DEFAULT 0;

CREATE TABLE "AuditWitnessStates" (
    "Witness" TEXT NOT NULL CONSTRAINT "PK_AuditWitnessStates" PRIMARY KEY,
    "LastSequence" INTEGER NOT NULL,
    "LastPushedAt" INTEGER NOT NULL,
    "LastError" TEXT NULL,
    "LastErrorAt" INTEGER NOT NULL
);

CREATE TABLE "OpenIddictApplications" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictApplications" PRIMARY KEY,
    "ApplicationType" TEXT NULL,
    "ClientId" TEXT NULL,
    "ClientSecret" TEXT NULL,
    "ClientType" TEXT NULL,
    "ConcurrencyToken" TEXT NULL,
    "ConsentType" TEXT NULL,
    "DisplayName" TEXT NULL,
    "DisplayNames" TEXT NULL,
    "JsonWebKeySet" TEXT NULL,
    "Permissions" TEXT NULL,
    "PostLogoutRedirectUris" TEXT NULL,
    "Properties" TEXT NULL,
    "RedirectUris" TEXT NULL,
    "Requirements" TEXT NULL,
    "Settings" TEXT NULL
);

CREATE TABLE "OpenIddictScopes" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictScopes" PRIMARY KEY,
    "ConcurrencyToken" TEXT NULL,
    "Description" TEXT NULL,
    "Descriptions" TEXT NULL,
    "DisplayName" TEXT NULL,
    "DisplayNames" TEXT NULL,
    "Name" TEXT NULL,
    "Properties" TEXT NULL,
    "Resources" TEXT NULL
);

CREATE TABLE "RevokedUsers" (
    "User" TEXT NOT NULL CONSTRAINT "PK_RevokedUsers" PRIMARY KEY,
    "RevokedBy" TEXT NOT NULL,
    "RevokedAt" TEXT NOT NULL
);

CREATE TABLE "UserUpstreamTokens" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_UserUpstreamTokens" PRIMARY KEY AUTOINCREMENT,
    "Server" TEXT NOT NULL,
    "User" TEXT NOT NULL,
    "CredentialCiphertext" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL
);

CREATE TABLE "OpenIddictAuthorizations" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictAuthorizations" PRIMARY KEY,
    "ApplicationId" TEXT NULL,
    "ConcurrencyToken" TEXT NULL,
    "CreationDate" TEXT NULL,
    "Properties" TEXT NULL,
    "Scopes" TEXT NULL,
    "Status" TEXT NULL,
    "Subject" TEXT NULL,
    "Type" TEXT NULL,
    CONSTRAINT "FK_OpenIddictAuthorizations_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id")
);

CREATE TABLE "OpenIddictTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictTokens" PRIMARY KEY,
    "ApplicationId" TEXT NULL,
    "AuthorizationId" TEXT NULL,
    "ConcurrencyToken" TEXT NULL,
    "CreationDate" TEXT NULL,
    "ExpirationDate" TEXT NULL,
    "Payload" TEXT NULL,
    "Properties" TEXT NULL,
    "RedemptionDate" TEXT NULL,
    "ReferenceId" TEXT NULL,
    "Status" TEXT NULL,
    "Subject" TEXT NULL,
    "Type" TEXT NULL,
    CONSTRAINT "FK_OpenIddictTokens_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id"),
    CONSTRAINT "FK_OpenIddictTokens_OpenIddictAuthorizations_AuthorizationId" FOREIGN KEY ("AuthorizationId") REFERENCES "OpenIddictAuthorizations" ("Id")
);

CREATE UNIQUE INDEX "IX_OpenIddictApplications_ClientId" ON "OpenIddictApplications" ("ClientId");

CREATE INDEX "IX_OpenIddictAuthorizations_ApplicationId_Status_Subject_Type" ON "OpenIddictAuthorizations" ("ApplicationId", "Status", "Subject", "Type");

CREATE UNIQUE INDEX "IX_OpenIddictScopes_Name" ON "OpenIddictScopes" ("Name");

CREATE INDEX "IX_OpenIddictTokens_ApplicationId_Status_Subject_Type" ON "OpenIddictTokens" ("ApplicationId", "Status", "Subject", "Type");

CREATE INDEX "IX_OpenIddictTokens_AuthorizationId" ON "OpenIddictTokens" ("AuthorizationId");

CREATE UNIQUE INDEX "IX_OpenIddictTokens_ReferenceId" ON "OpenIddictTokens" ("ReferenceId");

CREATE UNIQUE INDEX "IX_UserUpstreamTokens_Server_User" ON "UserUpstreamTokens" ("Server", "User");

CREATE INDEX "IX_UserUpstreamTokens_User" ON "UserUpstreamTokens" ("User");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261201171459_OAuthServerUserCredentialsWitnessStatesVirtualServerPicks', '10.0.15');

ALTER TABLE "RevokedUsers" ADD "Reason" TEXT NOT NULL DEFAULT 'Admin';

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261201201111_RevokedUserReasonsMcpSessionOAuthCredentialLength', '10.0.15');

CREATE TABLE "ChangeCounter" ("Id" INTEGER NOT NULL CONSTRAINT "PK_ChangeCounter" PRIMARY KEY CHECK ("Id" = 1), "Version" INTEGER NOT NULL);

INSERT INTO "ChangeCounter" ("Id", "Version") VALUES (1, 0);

CREATE TRIGGER "Agents_CountInsert" AFTER INSERT ON "Agents" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Agents_CountUpdate" AFTER UPDATE ON "Agents" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Agents_CountDelete" AFTER DELETE ON "Agents" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AgentKeys_CountInsert" AFTER INSERT ON "AgentKeys" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AgentKeys_CountUpdate" AFTER UPDATE ON "AgentKeys" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AgentKeys_CountDelete" AFTER DELETE ON "AgentKeys" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AgentGrants_CountInsert" AFTER INSERT ON "AgentGrants" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AgentGrants_CountUpdate" AFTER UPDATE ON "AgentGrants" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AgentGrants_CountDelete" AFTER DELETE ON "AgentGrants" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "PolicyRules_CountInsert" AFTER INSERT ON "PolicyRules" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "PolicyRules_CountUpdate" AFTER UPDATE ON "PolicyRules" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "PolicyRules_CountDelete" AFTER DELETE ON "PolicyRules" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolClassOverrides_CountInsert" AFTER INSERT ON "ToolClassOverrides" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolClassOverrides_CountUpdate" AFTER UPDATE ON "ToolClassOverrides" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolClassOverrides_CountDelete" AFTER DELETE ON "ToolClassOverrides" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolPins_CountInsert" AFTER INSERT ON "ToolPins" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolPins_CountUpdate" AFTER UPDATE ON "ToolPins" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolPins_CountDelete" AFTER DELETE ON "ToolPins" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Servers_CountInsert" AFTER INSERT ON "Servers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Servers_CountUpdate" AFTER UPDATE ON "Servers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Servers_CountDelete" AFTER DELETE ON "Servers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ConsoleUsers_CountInsert" AFTER INSERT ON "ConsoleUsers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ConsoleUsers_CountUpdate" AFTER UPDATE ON "ConsoleUsers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ConsoleUsers_CountDelete" AFTER DELETE ON "ConsoleUsers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Approvals_CountInsert" AFTER INSERT ON "Approvals" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Approvals_CountUpdate" AFTER UPDATE ON "Approvals" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "Approvals_CountDelete" AFTER DELETE ON "Approvals" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AuditCheckpoints_CountInsert" AFTER INSERT ON "AuditCheckpoints" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AuditCheckpoints_CountUpdate" AFTER UPDATE ON "AuditCheckpoints" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "AuditCheckpoints_CountDelete" AFTER DELETE ON "AuditCheckpoints" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolLimitRules_CountInsert" AFTER INSERT ON "ToolLimitRules" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolLimitRules_CountUpdate" AFTER UPDATE ON "ToolLimitRules" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolLimitRules_CountDelete" AFTER DELETE ON "ToolLimitRules" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolRejections_CountInsert" AFTER INSERT ON "ToolRejections" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolRejections_CountUpdate" AFTER UPDATE ON "ToolRejections" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "ToolRejections_CountDelete" AFTER DELETE ON "ToolRejections" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "VirtualServers_CountInsert" AFTER INSERT ON "VirtualServers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "VirtualServers_CountUpdate" AFTER UPDATE ON "VirtualServers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "VirtualServers_CountDelete" AFTER DELETE ON "VirtualServers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "RevokedUsers_CountInsert" AFTER INSERT ON "RevokedUsers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "RevokedUsers_CountUpdate" AFTER UPDATE ON "RevokedUsers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "RevokedUsers_CountDelete" AFTER DELETE ON "RevokedUsers" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

CREATE TRIGGER "InstanceMessages_CountInsert" AFTER INSERT ON "InstanceMessages" BEGIN UPDATE "ChangeCounter" SET "Version" = "Version" + 1; END;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261202135441_SqliteChangeCounter', '10.0.15');

ALTER TABLE "Servers" ADD "ForwardHeadersJson" TEXT NOT NULL DEFAULT '[]';

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261203223030_ServerForwardHeaders', '10.0.15');

CREATE TABLE "CallsInFlight" (
    "CallId" TEXT NOT NULL CONSTRAINT "PK_CallsInFlight" PRIMARY KEY,
    "Sequence" INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO "CallsInFlight" ("CallId", "Sequence")
SELECT s."CallId", MAX(s."Sequence") FROM "AuditEntries" s
WHERE s."Kind" = 'tool_call.started' AND s."CallId" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "AuditEntries" c WHERE c."CallId" = s."CallId" AND c."Kind" <> 'tool_call.started')
GROUP BY s."CallId";

DROP INDEX "IX_AuditEntries_CallId";

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261204103942_CallsInFlight', '10.0.15');

CREATE TABLE "FollowedTasks" (
    "CallId" TEXT NOT NULL CONSTRAINT "PK_FollowedTasks" PRIMARY KEY,
    "Agent" INTEGER NOT NULL,
    "Binding" TEXT NOT NULL,
    "UntilMs" INTEGER NOT NULL,
    "LeaseUntilMs" INTEGER NOT NULL
);

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261204175941_FollowedTasks', '10.0.15');

ALTER TABLE "McpSessions" ADD "Facts" TEXT NULL;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261205153303_SharedSessionFacts', '10.0.15');

