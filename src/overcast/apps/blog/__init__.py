"""MyBlog.com: a RealWorld blog API, welcome emails on a change stream, photo thumbnails."""
