"""Problem categories (部件 and 事件 classes) and the departments that handle them."""
