{{/* Names and labels shared by every template. */}}

{{- define "dynauthn.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dynauthn.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dynauthn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dynauthn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dynauthn.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dynauthn.selectorLabels" . }}
app.kubernetes.io/version: {{ include "dynauthn.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dynauthn.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dynauthn.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image tag: the chart's appVersion unless set; never "latest". */}}
{{- define "dynauthn.imageTag" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must name a release (or use image.digest), not \"latest\"" }}
{{- end }}
{{- $tag }}
{{- end }}

{{- define "dynauthn.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "dynauthn.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "dynauthn.signingKeysSecret" -}}
{{- default (printf "%s-signing-keys" (include "dynauthn.fullname" .)) .Values.signingKeys.secretName }}
{{- end }}

{{- define "dynauthn.serverSecretSecret" -}}
{{- default (printf "%s-server-secret" (include "dynauthn.fullname" .)) .Values.serverSecret.secretName }}
{{- end }}

{{/* config.* keys rendered only when set, and their environment variables. */}}
{{- define "dynauthn.optionalConfig" -}}
dynamodbEndpoint: DYNAMODB_ENDPOINT
passkeyEnrollUrl: PASSKEY_ENROLL_URL
passkeyManageUrl: PASSKEY_MANAGE_URL
challengeTtlSeconds: CHALLENGE_TTL_SECONDS
sessionTtlSeconds: SESSION_TTL_SECONDS
credentialCacheTtlSeconds: CREDENTIAL_CACHE_TTL_SECONDS
verifiedTokenCacheMaxEntries: VERIFIED_TOKEN_CACHE_MAX_ENTRIES
auditRetentionDays: AUDIT_RETENTION_DAYS
sessionRevocationStalenessSeconds: SESSION_REVOCATION_STALENESS_SECONDS
stepUpGrantTtlSeconds: STEP_UP_GRANT_TTL_SECONDS
stepUpGrantHeader: STEP_UP_GRANT_HEADER
extAuthzClientIp: EXT_AUTHZ_CLIENT_IP
extAuthzXffTrustedHops: EXT_AUTHZ_XFF_TRUSTED_HOPS
crlFetchTimeoutMs: CRL_FETCH_TIMEOUT_MS
beginLimitPerCaller: BEGIN_LIMIT_PER_CALLER
beginLimitPerUser: BEGIN_LIMIT_PER_USER
beginLimitPerIp: BEGIN_LIMIT_PER_IP
beginLimitWindowSeconds: BEGIN_LIMIT_WINDOW_SECONDS
beginLimitOutstandingPerUser: BEGIN_LIMIT_OUTSTANDING_PER_USER
auditFailuresPerSource: AUDIT_FAILURES_PER_SOURCE
auditFailuresTotal: AUDIT_FAILURES_TOTAL
auditFailuresWindowSeconds: AUDIT_FAILURES_WINDOW_SECONDS
maxRequestBytes: MAX_REQUEST_BYTES
handshakeTimeoutSeconds: HANDSHAKE_TIMEOUT_SECONDS
httpHeadersTimeoutSeconds: HTTP_HEADERS_TIMEOUT_SECONDS
httpRequestTimeoutSeconds: HTTP_REQUEST_TIMEOUT_SECONDS
httpIdleTimeoutSeconds: HTTP_IDLE_TIMEOUT_SECONDS
http2PingIntervalSeconds: HTTP2_PING_INTERVAL_SECONDS
http2PingTimeoutSeconds: HTTP2_PING_TIMEOUT_SECONDS
maxConnections: MAX_CONNECTIONS
http2MaxConcurrentStreams: HTTP2_MAX_CONCURRENT_STREAMS
maxHeaderBytes: MAX_HEADER_BYTES
healthWatchesPerConnection: HEALTH_WATCHES_PER_CONNECTION
healthWatchesTotal: HEALTH_WATCHES_TOTAL
{{- end }}

{{/* http or https: what the service port speaks to in-cluster clients and the test hook. */}}
{{- define "dynauthn.scheme" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}
