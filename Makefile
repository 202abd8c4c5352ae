.PHONY: test demo build
test:
	bash deploy/scripts/test.sh
demo:
	go run ./cmd/kaifang demo
build:
	go build -o kaifang ./cmd/kaifang
