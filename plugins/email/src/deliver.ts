/** Delivery with retries is core's, shared by every notifier (packages/core/src/delivery.ts). */
export {
  deliver,
  DEFAULT_DELIVERY_POLICY as DEFAULT_POLICY,
  DeliveryExhausted as Exhausted,
  TransientDeliveryError as Transient,
  type DeliveryPolicy,
} from "@xo-foundry/core";
