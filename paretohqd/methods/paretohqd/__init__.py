"""ParetoHqD's variants as configured (``config``); the selection itself is paretohqd.selection, training paretohqd.policy."""
