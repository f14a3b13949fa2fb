# Thin aliases for ./dev, for those who type make out of habit.
.PHONY: up test lint bootstrap
up:
	./dev up
test:
	./dev test
lint:
	./dev lint
bootstrap:
	./dev bootstrap
