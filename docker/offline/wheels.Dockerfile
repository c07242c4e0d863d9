# The wheelhouse as an image, so the other builds copy from it with no index (and no network) at all.
# Its context is the wheelhouse folder `make docker-images` fills on the host: every pinned wheel, the build
# backend and the lock files.
FROM scratch
COPY . /wheels
