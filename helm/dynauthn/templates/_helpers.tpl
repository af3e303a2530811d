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

{{- define "dynauthn.signingKeySecret" -}}
{{- default (printf "%s-signing-key" (include "dynauthn.fullname" .)) .Values.signingKey.secretName }}
{{- end }}

{{/* http or https: what the service port speaks to in-cluster clients and the test hook. */}}
{{- define "dynauthn.scheme" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}
