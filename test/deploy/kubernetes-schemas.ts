import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Pod, Service, ServiceAccount } from "kubernetes-models/v1";
import type { Manifest } from "./helm.js";

/**
 * The Kubernetes (and Prometheus Operator) schemas of every kind the chart renders, from
 * kubernetes-models. A kind the chart starts rendering must be added here, or validation fails.
 */
const MODELS = {
  "apps/v1 Deployment": Deployment,
  "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "monitoring.coreos.com/v1 ServiceMonitor": ServiceMonitor,
  "networking.k8s.io/v1 NetworkPolicy": NetworkPolicy,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "v1 ConfigMap": ConfigMap,
  "v1 Pod": Pod,
  "v1 Service": Service,
  "v1 ServiceAccount": ServiceAccount,
} as const;

type Models = typeof MODELS;

/** Throws with the schema's message when `manifest` does not validate. */
export function validateManifest(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion} ${manifest.kind}` as keyof Models];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind} (${manifest.metadata.name})`);
  // The model classes take their own JSON shape; validate() checks it against the OpenAPI schema.
  new Model(manifest as never).validate();
}

/** The typed model of a manifest already validated. */
export function typed<K extends keyof Models>(key: K, manifest: Manifest): InstanceType<Models[K]> {
  return new MODELS[key](manifest as never) as InstanceType<Models[K]>;
}
